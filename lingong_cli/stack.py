"""``lingong stack up|down|status``: the whole system on one machine, on loopback, for trying the UI.

``up`` starts, each with a PID file and a log in the state directory (default ``.state/stack``):

1. ``prefect server start`` (the API and the UI), and waits until it is healthy;
2. the sandbox platform, its notify URL pointing at the receiver, processing compressed by a time scale;
3. the notification receiver, sending its events to that Prefect server;
4. the ``LingongCredentials`` Block type (registered, so the Blocks catalog offers it) and a Block
   ``lingong-sandbox`` holding the sandbox merchant's credentials; the merchant's global rate limits
   (``lingong limits ensure``, 40 calls/s, 10 writes/s);
5. the process work pool, the deployments of ``prefect.yaml`` that operators start (``prefect deploy``)
   and a process worker with the ``LINGONG_*`` variables of the sandbox's merchant;
6. one long-lived runner serving the notification follow-ups with their triggers
   (``lingong followups serve``), so that a follow-up runs a few seconds after its notification;
7. the operator's upload page (``lingong upload serve``), its token generated into ``upload.token``;

then prints the UI's URL. Payments above ``--approval-threshold`` (default 0: every payment) wait for a
person's approval (tasks/approval.py) for at most ``--approval-timeout`` seconds.

A component already running is left alone, so ``up`` twice starts nothing twice (``--redeploy``
deploys again, after prefect.yaml changed). ``down`` stops what ``up`` started, by the process ids it
recorded. ``env.sh`` in the state directory exports what a shell needs to use the stack
(``PREFECT_API_URL``, ``LINGONG_*``).

Everything binds 127.0.0.1; Prefect's state (``PREFECT_HOME``), the sandbox's keys and database, the
receiver's database and the run journal all live in the state directory.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="The whole stack on one machine: Prefect server, worker, sandbox, receiver.", no_args_is_help=True
)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_STATE = Path(".state/stack")
HOST = "127.0.0.1"
POOL = "lingong-process"
MERCHANT_NO = "1088202103120003"  # the sandbox's default merchant (lingong_sandbox.settings)
#: The order processes start in; ``down`` stops them in reverse.
COMPONENTS = ("server", "sandbox", "receiver", "worker", "followups", "upload")
#: The Block of the sandbox merchant's credentials ``up`` saves (flows' ``credentials`` picker offers it).
SANDBOX_BLOCK = "lingong-sandbox"


class StackError(RuntimeError):
    """A component did not start (its log says why) or the state directory is inconsistent."""


@dataclass
class StackConfig:
    state_dir: Path = DEFAULT_STATE
    prefect_port: int = 4200
    sandbox_port: int = 8765
    receiver_port: int = 8787
    upload_port: int = 8722
    time_scale: float = 10.0
    pool: str = POOL
    worker_limit: int = 4
    approval_threshold: str = "0"
    approval_timeout: int = 3600
    rate_limit_per_second: float = 40.0
    rate_limit_writes_per_second: float = 10.0
    deploy: bool = True
    redeploy: bool = False
    repo: Path = REPO

    @property
    def api_url(self) -> str:
        return f"http://{HOST}:{self.prefect_port}/api"

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.prefect_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{HOST}:{self.sandbox_port}"

    @property
    def receiver_url(self) -> str:
        return f"http://{HOST}:{self.receiver_port}"

    @property
    def upload_url(self) -> str:
        return f"http://{HOST}:{self.upload_port}"

    @property
    def upload_token_file(self) -> Path:
        return self.state_dir / "upload.token"

    @property
    def notify_url(self) -> str:
        return self.receiver_url + "/notify"

    @property
    def keys_dir(self) -> Path:
        return self.state_dir / "sandbox" / "keys"

    def to_json(self) -> str:
        data = asdict(self)
        data["state_dir"], data["repo"] = str(self.state_dir), str(self.repo)
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> StackConfig:
        data = json.loads(text)
        data["state_dir"], data["repo"] = Path(data["state_dir"]), Path(data["repo"])
        return cls(**data)


@dataclass
class Stack:
    """What ``up`` started (or found running): URLs and the environment a client of the stack needs."""

    config: StackConfig
    started: list[str] = field(default_factory=list)
    running: list[str] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return {"PREFECT_API_URL": self.config.api_url, **lingong_env(self.config)}


# --- environment -----------------------------------------------------------------------------------


def lingong_env(config: StackConfig) -> dict[str, str]:
    """The ``LINGONG_*`` variables of the sandbox's merchant, and where the journal and receiver live."""
    state = config.state_dir.resolve()
    keys = config.keys_dir.resolve()
    return {
        "LINGONG_BASE_URL": config.sandbox_url,
        "LINGONG_MERCHANT_NO": MERCHANT_NO,
        "LINGONG_PRIVATE_KEY_FILE": str(keys / "merchant_private.pem"),
        "LINGONG_PLATFORM_PUBLIC_KEY_FILE": str(keys / "platform_public.pem"),
        "LINGONG_JOURNAL_DB": str(state / "journal.db"),
        "LINGONG_RECEIVER_DB": str(state / "receiver" / "notifications.db"),
        # the project's database (payee store) and the payee key, shared by the worker and the upload page
        "LINGONG_DATABASE_URL": f"sqlite:///{state / 'lingong.db'}",
        "LINGONG_PAYEE_KEY_FILE": str(state / "payee.key"),
        "LINGONG_APPROVAL_THRESHOLD": config.approval_threshold,
        "LINGONG_APPROVAL_TIMEOUT_SECONDS": str(config.approval_timeout),
        "LINGONG_RATE_LIMIT_PER_SECOND": f"{config.rate_limit_per_second:g}",
        "LINGONG_RATE_LIMIT_WRITES_PER_SECOND": f"{config.rate_limit_writes_per_second:g}",
    }


def _env(config: StackConfig, *, api: bool, lingong: bool) -> dict[str, str]:
    """The process environment: ours, not whatever Prefect or LINGONG_* settings the caller's shell has."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LINGONG_"))}
    env.update(
        PREFECT_HOME=str((config.state_dir / "prefect").resolve()),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_LOGGING_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    if api:
        env["PREFECT_API_URL"] = config.api_url
    if lingong:
        env.update(lingong_env(config))
    return env


# --- processes -------------------------------------------------------------------------------------


def _pid_file(config: StackConfig, name: str) -> Path:
    return config.state_dir / f"{name}.pid"


def _log_file(config: StackConfig, name: str) -> Path:
    return config.state_dir / f"{name}.log"


def _read_pid(config: StackConfig, name: str) -> int | None:
    try:
        return int(_pid_file(config, name).read_text().strip())
    except (OSError, ValueError):
        return None


#: The processes this interpreter started, kept so they are waited for (and not collected while running).
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _alive(pid: int) -> bool:
    """Whether ``pid`` is a live process (a child that exited is reaped, not counted as alive)."""
    if pid in _CHILDREN:
        return _CHILDREN[pid].poll() is None
    with contextlib.suppress(ChildProcessError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    with contextlib.suppress(OSError):
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _ours(config: StackConfig, name: str) -> int | None:
    """The recorded process of component ``name``, if it is still alive and still the one we started."""
    pid = _read_pid(config, name)
    if pid is None or not _alive(pid):
        return None
    with contextlib.suppress(OSError):  # where /proc exists, make sure the id was not reused
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        if str(config.repo) not in cmdline and "lingong" not in cmdline and "prefect" not in cmdline:
            return None
    return pid


def _spawn(config: StackConfig, name: str, args: list[str], env: Mapping[str, str]) -> int:
    log = _log_file(config, name).open("ab")
    log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(args)}\n".encode())
    log.flush()
    with log:
        process = subprocess.Popen(  # a session of its own: `down` stops it and its children as one group
            args,
            cwd=config.repo,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    _CHILDREN[process.pid] = process
    _pid_file(config, name).write_text(f"{process.pid}\n")
    return process.pid


def _tail(config: StackConfig, name: str, lines: int = 25) -> str:
    try:
        text = _log_file(config, name).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _port_busy(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2.0, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(config: StackConfig, name: str, pid: int, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if not _alive(pid):
            raise StackError(
                f"{name} exited while starting; the end of {_log_file(config, name)}:\n{_tail(config, name)}"
            )
        if time.monotonic() > deadline:
            raise StackError(f"{name} not ready after {timeout:.0f} s; the end of its log:\n{_tail(config, name)}")
        time.sleep(0.25)


def _run(config: StackConfig, name: str, args: list[str], env: Mapping[str, str], timeout: float = 300.0) -> None:
    """Run a one-off command (work pool, deploy), its output appended to ``<name>.log``; raise if it fails."""
    with _log_file(config, name).open("ab") as log:
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(args)}\n".encode())
        log.flush()
        result = subprocess.run(
            args,
            cwd=config.repo,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            timeout=timeout,
            check=False,
        )
    if result.returncode != 0:
        raise StackError(
            f"{' '.join(args[2:])} failed ({result.returncode}); the end of its log:\n{_tail(config, name)}"
        )


def _prefect(*args: str) -> list[str]:
    return [sys.executable, "-m", "prefect", *args]


def _lingong(*args: str) -> list[str]:
    return [sys.executable, "-m", "lingong_cli.main", *args]


# --- up / down / status ----------------------------------------------------------------------------


def _component(
    config: StackConfig,
    stack: Stack,
    name: str,
    port: int | None,
    args: list[str],
    env: Mapping[str, str],
    ready: Callable[[], bool],
    timeout: float,
    say: Callable[[str], None],
) -> None:
    if _ours(config, name) is not None:
        stack.running.append(name)
        say(f"{name}: already running")
        return
    if port is not None and _port_busy(port):
        raise StackError(f"{name}: port {port} on {HOST} is taken by another process; choose another port")
    pid = _spawn(config, name, args, env)
    say(f"{name}: starting (pid {pid}, log {_log_file(config, name)})")
    _wait(config, name, pid, ready, timeout)
    stack.started.append(name)


def _work_pool(config: StackConfig, env: Mapping[str, str]) -> None:
    if not _http_ok(f"{config.api_url}/work_pools/{config.pool}"):
        _run(config, "deploy", _prefect("work-pool", "create", config.pool, "--type", "process"), env)


def _worker_online(config: StackConfig) -> bool:
    import httpx

    try:
        answer = httpx.post(
            f"{config.api_url}/work_pools/{config.pool}/workers/filter", json={}, timeout=2.0, trust_env=False
        )
    except httpx.HTTPError:
        return False
    return answer.status_code == 200 and any(w.get("name") == "lingong-worker" for w in answer.json())


def _followups_served(config: StackConfig) -> bool:
    """Whether the runner serves every follow-up: each deployment exists, without a pool, and is READY."""
    import httpx

    from lingong_cli.followups import follow_up_configs

    names = [d["name"] for d in follow_up_configs(config.repo / "prefect.yaml")]
    try:
        answer = httpx.post(
            f"{config.api_url}/deployments/filter",
            json={"deployments": {"name": {"any_": names}}},
            timeout=2.0,
            trust_env=False,
        )
    except httpx.HTTPError:
        return False
    if answer.status_code != 200:
        return False
    ready = {d["name"] for d in answer.json() if d.get("work_pool_name") is None and d.get("status") == "READY"}
    return ready >= set(names)


def _prepare(config: StackConfig, env: Mapping[str, str], say: Callable[[str], None]) -> None:
    """The credentials Block type and the sandbox's Block, the rate limits: what flows expect to find."""
    say("registering the LingongCredentials Block type, saving the sandbox's as " + SANDBOX_BLOCK)
    _run(config, "deploy", _lingong("blocks", "register"), env)
    _run(config, "deploy", _lingong("blocks", "save", SANDBOX_BLOCK), env)
    say("creating the merchant's rate limits (lingong limits ensure)")
    _run(config, "deploy", _lingong("limits", "ensure"), env)


def up(config: StackConfig, say: Callable[[str], None] = print) -> Stack:
    """Start whatever of the stack is not running yet, deploy, and return where everything is."""
    config.state_dir.mkdir(parents=True, exist_ok=True)
    recorded = config.state_dir / "stack.json"
    if recorded.exists() and any(_ours(config, name) for name in COMPONENTS):
        previous = StackConfig.from_json(recorded.read_text())
        if (previous.prefect_port, previous.sandbox_port, previous.receiver_port) != (
            config.prefect_port,
            config.sandbox_port,
            config.receiver_port,
        ):
            say(f"the stack in {config.state_dir} is running on the ports it started with; using those")
        config.prefect_port, config.sandbox_port, config.receiver_port = (
            previous.prefect_port,
            previous.sandbox_port,
            previous.receiver_port,
        )
        if _ours(config, "upload") is not None:  # the upload page keeps its port too
            config.upload_port = previous.upload_port
    recorded.write_text(config.to_json())
    stack = Stack(config)
    # The UI asks the server where the API is: tell it this port, not Prefect's default 4200.
    server_env = {**_env(config, api=False, lingong=False), "PREFECT_UI_API_URL": config.api_url}
    client_env = _env(config, api=True, lingong=False)
    full_env = _env(config, api=True, lingong=True)

    _component(
        config,
        stack,
        "server",
        config.prefect_port,
        _prefect("server", "start", "--host", HOST, "--port", str(config.prefect_port)),
        server_env,
        lambda: _http_ok(config.api_url + "/health"),
        180.0,
        say,
    )
    _component(
        config,
        stack,
        "sandbox",
        config.sandbox_port,
        _lingong(
            "sandbox",
            "serve",
            "--host",
            HOST,
            "--port",
            str(config.sandbox_port),
            "--time-scale",
            f"{config.time_scale:g}",
            "--notify-url",
            config.notify_url,
            "--state-dir",
            str(config.state_dir / "sandbox"),
        ),
        server_env,
        lambda: _http_ok(config.sandbox_url + "/sandbox/admin/health"),
        60.0,
        say,
    )
    _component(
        config,
        stack,
        "receiver",
        config.receiver_port,
        _lingong("notify", "serve", "--host", HOST, "--port", str(config.receiver_port), "--log-level", "warning"),
        full_env,
        lambda: _http_ok(config.receiver_url + "/healthz"),
        60.0,
        say,
    )
    # Deploy when something (re)started; with everything already up, only when asked (--redeploy).
    if config.deploy and (stack.started or _ours(config, "worker") is None or config.redeploy):
        from lingong_cli.followups import other_deployment_names

        _prepare(config, full_env, say)
        _work_pool(config, client_env)
        names = other_deployment_names(config.repo / "prefect.yaml")
        say(f"deploying {', '.join(names)} (prefect deploy); the follow-ups are served below")
        _run(config, "deploy", _prefect("--no-prompt", "deploy", *(f"--name={n}" for n in names)), client_env)
    _component(
        config,
        stack,
        "worker",
        None,
        _prefect(
            "worker",
            "start",
            "--pool",
            config.pool,
            "--type",
            "process",
            "--name",
            "lingong-worker",
            "--limit",
            str(config.worker_limit),
        ),
        # Every worker poll is a write on the server's database (the queue's last poll); on SQLite, a write
        # between another request's read and write fails that request (the UI's Resume): 5 s, not 2 s.
        {**full_env, "PREFECT_WORKER_QUERY_SECONDS": "5", "PREFECT_WORKER_PREFETCH_SECONDS": "10"},
        lambda: _worker_online(config),
        90.0,
        say,
    )
    _component(
        config,
        stack,
        "followups",
        None,
        _lingong("followups", "serve"),
        {**full_env, "LINGONG_FOLLOWUPS_POLL_SECONDS": "0.5"},
        lambda: _followups_served(config),
        120.0,
        say,
    )
    _component(
        config,
        stack,
        "upload",
        config.upload_port,
        _lingong("upload", "serve", "--host", HOST, "--port", str(config.upload_port)),
        {**full_env, "LINGONG_UPLOAD_TOKEN": upload_token(config)},
        lambda: _http_ok(config.upload_url + "/healthz"),
        60.0,
        say,
    )
    _write_env(config, stack)
    return stack


def upload_token(config: StackConfig) -> str:
    """The upload page's operator token for this stack: generated once into ``upload.token`` (mode 0600)."""
    import secrets

    path = config.upload_token_file
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def _write_env(config: StackConfig, stack: Stack) -> None:
    lines = ["# source this file to use the stack from a shell (written by `lingong stack up`)"]
    lines += [f"export {k}={v}" for k, v in stack.env.items()]
    (config.state_dir / "env.sh").write_text("\n".join(lines) + "\n")


def _stop(config: StackConfig, name: str, timeout: float = 20.0) -> bool:
    pid = _ours(config, name)
    if pid is None:
        _pid_file(config, name).unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)  # the session leader's group: the process and what it started
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        while _alive(pid) and time.monotonic() < deadline + 5:
            time.sleep(0.1)
    child = _CHILDREN.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=1)
    _pid_file(config, name).unlink(missing_ok=True)
    return True


def down(config: StackConfig, say: Callable[[str], None] = print) -> list[str]:
    """Stop every component ``up`` started (by its recorded process id); return which were running."""
    stopped = [name for name in reversed(COMPONENTS) if _stop(config, name)]
    for name in stopped:
        say(f"{name}: stopped")
    if not stopped:
        say(f"nothing running from {config.state_dir}")
    return stopped


def status(config: StackConfig) -> dict[str, int | None]:
    return {name: _ours(config, name) for name in COMPONENTS}


def load_config(state_dir: Path) -> StackConfig:
    recorded = state_dir / "stack.json"
    if recorded.exists():
        return StackConfig.from_json(recorded.read_text())
    return StackConfig(state_dir=state_dir)


@contextlib.contextmanager
def running(config: StackConfig, say: Callable[[str], None] = print) -> Iterator[Stack]:
    """The stack, up for the duration of a ``with`` block (tests), then down."""
    try:
        yield up(config, say)
    finally:
        down(config, say)


# --- the command line ------------------------------------------------------------------------------

StateOption = Annotated[Path, typer.Option("--state-dir", help="Where PID files, logs and state live.")]


@app.command("up")
def up_command(
    state_dir: StateOption = DEFAULT_STATE,
    prefect_port: Annotated[int, typer.Option("--prefect-port", help="The Prefect server's (API and UI) port.")] = 4200,
    sandbox_port: Annotated[int, typer.Option("--sandbox-port", help="The sandbox platform's port.")] = 8765,
    receiver_port: Annotated[int, typer.Option("--receiver-port", help="The notification receiver's port.")] = 8787,
    upload_port: Annotated[int, typer.Option("--upload-port", help="The upload page's port.")] = 8722,
    time_scale: Annotated[
        float, typer.Option("--time-scale", help="Sandbox seconds per real second (10: a settlement takes ~1 s).")
    ] = 10.0,
    deploy: Annotated[bool, typer.Option("--deploy/--no-deploy", help="Run prefect deploy.")] = True,
    approval_threshold: Annotated[
        str,
        typer.Option("--approval-threshold", help="Payments above this (yuan) wait for approval; 0: every one."),
    ] = "0",
    approval_timeout: Annotated[
        int, typer.Option("--approval-timeout", help="Seconds a payment waits for approval before it is not made.")
    ] = 3600,
    redeploy: Annotated[
        bool,
        typer.Option("--redeploy", help="Deploy again even if everything is running (after editing prefect.yaml)."),
    ] = False,
) -> None:
    """Start the Prefect server, the sandbox, the receiver and a worker on loopback; deploy; print the UI's URL."""
    config = StackConfig(
        state_dir=state_dir,
        prefect_port=prefect_port,
        sandbox_port=sandbox_port,
        receiver_port=receiver_port,
        upload_port=upload_port,
        time_scale=time_scale,
        deploy=deploy,
        redeploy=redeploy,
        approval_threshold=approval_threshold,
        approval_timeout=approval_timeout,
    )
    try:
        stack = up(config, typer.echo)
    except StackError as exc:
        typer.echo(f"error: {exc}", err=True)
        typer.echo("what did start is still running; `lingong stack down` stops it", err=True)
        raise typer.Exit(1) from None
    config = stack.config
    typer.echo("")
    typer.echo(f"Prefect UI:      {config.ui_url}")
    typer.echo(f"sandbox:         {config.sandbox_url} (time scale {config.time_scale:g})")
    typer.echo(f"notify URL:      {config.notify_url}")
    typer.echo(f"upload page:     {config.upload_url} (password: the token in {config.upload_token_file})")
    typer.echo(f"in a shell:      source {config.state_dir / 'env.sh'}")
    typer.echo("stop it all:     make down")


@app.command("down")
def down_command(state_dir: StateOption = DEFAULT_STATE) -> None:
    """Stop everything `up` started."""
    down(load_config(state_dir), typer.echo)


@app.command("status")
def status_command(state_dir: StateOption = DEFAULT_STATE) -> None:
    """Which components are running (exit 1 if any is not)."""
    config = load_config(state_dir)
    states = status(config)
    for name, pid in states.items():
        typer.echo(f"{name:9} {'running (pid ' + str(pid) + ')' if pid else 'stopped'}")
    if all(states.values()):
        typer.echo(f"Prefect UI: {config.ui_url}")
    else:
        raise typer.Exit(1)
