"""``lingong keys generate``: an RSA key pair for a merchant (or for the sandbox platform)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from lingong_core.signing import generate_key_pair, private_key_to_pem, public_key_to_pem

app = typer.Typer(help="RSA keys for signing.", no_args_is_help=True)


def write_key_pair(out: Path, bits: int = 2048, *, stem: str = "merchant") -> tuple[Path, Path]:
    """Write ``<stem>_private.pem`` (mode 0600, PKCS#8) and ``<stem>_public.pem`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    private, public = generate_key_pair(bits)
    private_path, public_path = out / f"{stem}_private.pem", out / f"{stem}_public.pem"
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(private_key_to_pem(private))
    public_path.write_text(public_key_to_pem(public), encoding="ascii")
    return private_path, public_path


@app.command("generate")
def generate(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the PEM files into.")],
    bits: Annotated[int, typer.Option("--bits", help="Key size: 2048 (default) or 1024.")] = 2048,
    stem: Annotated[str, typer.Option("--name", help="File name prefix.")] = "merchant",
) -> None:
    """Generate an RSA key pair: register the public key with the platform, keep the private key secret."""
    if bits not in (1024, 2048, 3072, 4096):
        raise typer.BadParameter("must be 1024, 2048, 3072 or 4096", param_hint="--bits")
    private_path, public_path = write_key_pair(out, bits, stem=stem)
    typer.echo(f"private key: {private_path} (mode 600; never commit or share it)")
    typer.echo(f"public key:  {public_path} (register it with the platform)")
