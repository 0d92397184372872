"""Integration tests on the real stack: a Prefect server, a process worker, the sandbox and the receiver,
started by ``lingong stack up`` into a temporary state directory on free loopback ports.

One stack serves every test that asks for it (it takes ~20-40 s to start); it is stopped, by the process
ids it recorded, as soon as the next test does not need it — other slow tests start servers of their
own and should not share two cores with an idle one — and at the latest when the session ends."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from lingong_cli.stack import Stack, StackConfig, down, up

_RUNNING: dict[str, StackConfig] = {}


def say(line: str) -> None:
    print(f"[stack] {line}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def stack_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackConfig]:
    config = StackConfig(
        state_dir=tmp_path_factory.mktemp("stack"),
        prefect_port=free_port(),
        sandbox_port=free_port(),
        receiver_port=free_port(),
        upload_port=free_port(),
        time_scale=20.0,
    )
    _RUNNING["config"] = config
    try:
        yield config
    finally:
        _RUNNING.pop("config", None)
        down(config, say)


@pytest.fixture
def stack(stack_config: StackConfig) -> Stack:
    """The running stack (started by the first test that asks; a quick check after that)."""
    return up(stack_config, say)


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    config = _RUNNING.get("config")
    if config is not None and (nextitem is None or "stack_config" not in getattr(nextitem, "fixturenames", ())):
        down(config, say)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The scan of the stack's state for personal data (test_personal_data.py) runs after every other test."""
    items.sort(key=lambda item: item.path.name == "test_personal_data.py")
