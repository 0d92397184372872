"""``lingong sandbox serve|audit|faults``: run the simulated platform, and ask it what happened.

``serve`` binds to 127.0.0.1 unless ``--host`` says otherwise. Without key files it keeps keys in
``.state/sandbox/keys/`` (generated on first use, reused after): the platform's pair, and a merchant pair
whose private key a client can sign with; it prints the ``LINGONG_*`` variables to export. The state
is the SQLite file ``.state/sandbox/sandbox.db`` unless ``--db`` says otherwise (``:memory:`` keeps
nothing), so a restart loses nothing.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="The sandbox platform: a faithful simulation of the 灵工 gateway.", no_args_is_help=True)

STATE_DIR = Path(".state/sandbox")
DEFAULT_URL = "http://127.0.0.1:8765"


def _read(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise typer.BadParameter(f"cannot read {what} {path}: {exc.strerror}") from None


def _keys(
    state: Path, merchant_public_key: Path | None, platform_private_key: Path | None
) -> tuple[str, str, dict[str, Path]]:
    """(merchant public PEM, platform private PEM, the files a client needs)."""
    from lingong_cli.keys import write_key_pair

    keys_dir = state / "keys"
    files: dict[str, Path] = {}
    if platform_private_key is None:
        platform_private_key = keys_dir / "platform_private.pem"
        if not platform_private_key.exists():
            write_key_pair(keys_dir, stem="platform")
        files["platform public key"] = keys_dir / "platform_public.pem"
    platform_pem = _read(platform_private_key, "the platform's private key")
    if merchant_public_key is None:
        merchant_public_key = keys_dir / "merchant_public.pem"
        if not merchant_public_key.exists():
            write_key_pair(keys_dir, stem="merchant")
        files["merchant private key"] = keys_dir / "merchant_private.pem"
    merchant_pem = _read(merchant_public_key, "the merchant's public key")
    if "platform public key" not in files:
        from lingong_core.signing import load_private_key, public_key_to_pem

        derived = keys_dir / "platform_public.pem"
        keys_dir.mkdir(parents=True, exist_ok=True)
        derived.write_text(public_key_to_pem(load_private_key(platform_pem).public_key()), encoding="ascii")
        files["platform public key"] = derived
    return merchant_pem, platform_pem, files


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to bind (loopback unless you mean otherwise).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option("--port", help="Port; 0 picks a free one.")] = 8765,
    merchant_no: Annotated[str | None, typer.Option("--merchant-no", help="The merchant's number.")] = None,
    merchant_public_key: Annotated[
        Path | None, typer.Option("--merchant-public-key", help="PEM file: the key the merchant registered.")
    ] = None,
    platform_private_key: Annotated[
        Path | None, typer.Option("--platform-private-key", help="PEM file: the platform's signing key.")
    ] = None,
    notify_url: Annotated[str | None, typer.Option("--notify-url", help="Where notifications are posted.")] = None,
    db: Annotated[str | None, typer.Option("--db", help="SQLite file (default .state/sandbox/sandbox.db).")] = None,
    time_scale: Annotated[float, typer.Option("--time-scale", help="Simulated seconds per real second.")] = 1.0,
    faults: Annotated[
        str | None, typer.Option("--faults", help="Fault spec, e.g. error_after=0.05,only=SFT0502.")
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed for outcomes and faults.")] = 0,
    state_dir: Annotated[Path, typer.Option("--state-dir", help="Where generated keys and the db live.")] = STATE_DIR,
) -> None:
    """Serve the sandbox platform's gateway until interrupted (Ctrl-C or SIGTERM)."""
    from lingong_core.signing import load_private_key
    from lingong_sandbox.faults import FaultSpecError, parse_faults
    from lingong_sandbox.server import SandboxServer
    from lingong_sandbox.settings import SandboxSettings

    if time_scale <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--time-scale")
    try:
        spec = parse_faults(faults)
    except FaultSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    merchant_pem, platform_pem, files = _keys(state_dir, merchant_public_key, platform_private_key)
    settings = SandboxSettings(time_scale=time_scale, seed=seed)
    if merchant_no:
        settings.merchant.merchant_no = merchant_no
    settings.merchant.public_key_pem = merchant_pem
    settings.merchant.notify_url = notify_url
    db_path = db or str(state_dir / "sandbox.db")
    if db_path != ":memory:":
        Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    server = SandboxServer(
        settings,
        platform_private_key=load_private_key(platform_pem),
        db_path=db_path,
        faults=spec,
        host=host,
        port=port,
    )
    try:
        server.start()
    except OSError as exc:
        typer.echo(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(2) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    typer.echo(f"sandbox platform serving on {server.base_url} (gateway {server.gateway_url})")
    typer.echo(f"state: {db_path}; time scale {time_scale:g}; faults: {spec.text() or 'none'}; seed {seed}")
    for what, path in files.items():
        typer.echo(f"{what}: {path}")
    typer.echo("for a client:")
    typer.echo(f"  export LINGONG_BASE_URL={server.base_url}")
    typer.echo(f"  export LINGONG_MERCHANT_NO={settings.merchant.merchant_no}")
    if "merchant private key" in files:
        typer.echo(f"  export LINGONG_PRIVATE_KEY_FILE={files['merchant private key'].resolve()}")
    typer.echo(f"  export LINGONG_PLATFORM_PUBLIC_KEY_FILE={files['platform public key'].resolve()}")
    typer.echo(f"admin (testing only): {server.admin_url}/audit, /faults, /notifications, /requests, /settings")
    sys.stdout.flush()
    try:
        stop.wait()
    finally:
        server.stop()
        typer.echo("sandbox stopped")


def _admin(url: str, method: str, path: str, body: Any = None) -> Any:
    import httpx

    from lingong_core import jsoncodec

    try:
        response = httpx.request(
            method,
            url.rstrip("/") + "/sandbox/admin/" + path,
            content=None if body is None else jsoncodec.dumps(body),
            headers={"Content-Type": "application/json"},
            timeout=30.0,
            trust_env=False,
        )
    except httpx.HTTPError as exc:
        typer.echo(f"error: cannot reach the sandbox at {url}: {exc}", err=True)
        raise typer.Exit(2) from None
    data = jsoncodec.loads(response.content) if response.content else None
    if response.status_code != 200:
        msg = data.get("msg") if isinstance(data, dict) else response.text
        typer.echo(f"error: HTTP {response.status_code}: {msg}", err=True)
        raise typer.Exit(1)
    return data


UrlOption = Annotated[
    str, typer.Option("--url", envvar="LINGONG_BASE_URL", help="The sandbox's base URL (default $LINGONG_BASE_URL).")
]


@app.command("audit")
def audit(url: UrlOption = DEFAULT_URL) -> None:
    """Print the audit view: per business key how many times it was paid, and the ledger's totals."""
    from lingong_core import jsoncodec

    typer.echo(jsoncodec.dumps(_admin(url, "GET", "audit")))


@app.command("faults")
def faults(
    url: UrlOption = DEFAULT_URL,
    set_spec: Annotated[str | None, typer.Option("--set", help="A new fault spec ('none' clears).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="A new seed (with --set).")] = None,
) -> None:
    """Show the fault spec, seed and counts of faults injected; or set a new spec."""
    from lingong_core import jsoncodec

    if set_spec is None:
        state = _admin(url, "GET", "faults")
    else:
        body: dict[str, Any] = {"spec": set_spec}
        if seed is not None:
            body["seed"] = seed
        state = _admin(url, "PUT", "faults", body)
    typer.echo(jsoncodec.dumps(state))
