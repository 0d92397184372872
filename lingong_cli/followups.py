"""``lingong followups serve``: one long-lived runner for the notification follow-ups, so they start fast.

A process worker starts a new Python process per flow run and polls for work every few seconds: a
follow-up then starts 6-28 s after its notification. This command serves the follow-up deployments
(the ones tagged ``notification`` in ``prefect.yaml``, with their triggers, descriptions and
concurrency limits read from that file, so there is one definition) from one process that has imported
every flow already and polls every second (``PREFECT_RUNNER_POLL_FREQUENCY``, default 1 here):
notification → follow-up Running in a few seconds (bench: ``python -m bench followup``).

``lingong stack up`` starts it; in production run it next to the receiver (as a service), or keep the
follow-ups on a worker with ``prefect deploy --all``. Stopping it leaves the deployments and their
automations behind: events arriving meanwhile create runs that wait (Late) until it serves again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(help="Serve the notification follow-up deployments from one long-lived runner.", no_args_is_help=True)

REPO = Path(__file__).resolve().parents[1]
PREFECT_YAML = REPO / "prefect.yaml"
FOLLOW_UP_TAG = "notification"


def follow_up_configs(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The deployments of ``prefect.yaml`` tagged ``notification``, as written there."""
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [d for d in config.get("deployments", []) if FOLLOW_UP_TAG in (d.get("tags") or [])]


def other_deployment_names(path: Path = PREFECT_YAML) -> list[str]:
    """The deployments a worker runs (everything that is not a follow-up)."""
    import yaml

    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [d["name"] for d in config.get("deployments", []) if FOLLOW_UP_TAG not in (d.get("tags") or [])]


def build_deployments(path: Path = PREFECT_YAML) -> list[Any]:
    """RunnerDeployments of the follow-ups, with the triggers, descriptions and limits of ``prefect.yaml``."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig
    from prefect.events import DeploymentEventTrigger
    from prefect.flows import load_flow_from_entrypoint

    deployments = []
    for config in follow_up_configs(path):
        entrypoint = str(config["entrypoint"])
        if not Path(entrypoint.split(":")[0]).is_absolute():
            entrypoint = str(path.parent / entrypoint)
        flow: Any = load_flow_from_entrypoint(entrypoint)
        limit = config.get("concurrency_limit")
        deployments.append(
            flow.to_deployment(
                name=config["name"],
                description=config.get("description"),
                tags=config.get("tags"),
                triggers=[DeploymentEventTrigger(**trigger) for trigger in config.get("triggers") or []],
                concurrency_limit=ConcurrencyLimitConfig(**limit) if isinstance(limit, dict) else limit,
            )
        )
    return deployments


@app.command("serve")
def serve_command(
    limit: Annotated[int, typer.Option("--limit", help="Follow-up runs at once.")] = 8,
) -> None:
    """Serve every follow-up deployment until stopped (Ctrl-C); PREFECT_API_URL must point at the server."""
    os.environ.setdefault("PREFECT_RUNNER_POLL_FREQUENCY", "1")
    from prefect import serve
    from prefect.settings import get_current_settings

    if not get_current_settings().api.url:
        typer.echo("error: PREFECT_API_URL is not set: a runner needs the Prefect server it serves", err=True)
        raise typer.Exit(2)
    deployments = build_deployments()
    typer.echo(f"serving {', '.join(d.name for d in deployments)}")
    serve(*deployments, limit=limit, pause_on_shutdown=False, print_starting_message=False)


@app.command("list")
def list_command() -> None:
    """The follow-up deployments and the events that start them."""
    for config in follow_up_configs():
        events = sorted({e for t in config.get("triggers") or [] for e in t.get("expect", [])})
        typer.echo(f"{config['name']}\t{', '.join(events)}")
