"""The follow-up runner (lingong followups serve) claims a served deployment's scheduled run and runs it in its
own process, by Prefect's engine, against the real (test) server: Running, then Completed, once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from prefect import flow
from prefect.client.orchestration import get_client

from lingong_cli.followups import FollowUpRunner, build_deployments

pytestmark = [pytest.mark.usefixtures("prefect")]


RAN: list[str] = []  # what the runs did, seen from this process: they ran here, not in a subprocess


@flow(name="follow-up-echo")
async def echo(value: str, times: int = 1) -> str:
    RAN.append(value * times)
    return value * times


def test_a_scheduled_run_is_claimed_once_and_runs_in_this_process() -> None:
    RAN.clear()

    async def scenario() -> tuple[Any, list[int]]:
        runner = FollowUpRunner([(await echo.ato_deployment(name="echo"), echo)], limit=2, poll_seconds=0.1)
        async with get_client() as client:
            await runner.apply(client)
            (deployment_id,) = runner.flows
            created = await client.create_flow_run_from_deployment(
                deployment_id, parameters={"value": "ok", "times": 2}
            )
            started = [await runner.poll_once(client)]
            started.append(await runner.poll_once(client))  # claimed already: not started twice
            (thread,) = runner.in_flight.values()
            await asyncio.to_thread(thread.join, 120)
            return await client.read_flow_run(created.id), started

    finished, started = asyncio.run(scenario())
    assert started == [1, 0]
    assert finished.state is not None
    assert finished.state.is_completed()
    assert finished.start_time is not None
    assert RAN == ["okok"]


def test_the_polls_between_two_ready_marks_find_scheduled_runs_by_reading_only() -> None:
    """The poll that marks the deployments READY (a write on the server) comes every MARK_READY_SECONDS; the
    polls in between read: a run scheduled after the marking poll is claimed by the next, reading, poll."""
    RAN.clear()

    async def scenario() -> tuple[Any, list[int], Any]:
        runner = FollowUpRunner([(await echo.ato_deployment(name="echo-read"), echo)], limit=2, poll_seconds=0.1)
        async with get_client() as client:
            await runner.apply(client)
            (deployment_id,) = runner.flows
            started = [await runner.poll_once(client)]  # marks READY; nothing scheduled yet
            marked = runner.marked_ready_at
            created = await client.create_flow_run_from_deployment(deployment_id, parameters={"value": "rd"})
            started.append(await runner.poll_once(client))
            assert runner.marked_ready_at == marked  # this poll only read
            (thread,) = runner.in_flight.values()
            await asyncio.to_thread(thread.join, 120)
            for _ in range(60):  # the server marks READY in the background (its docket), soon after the poll
                deployment = await client.read_deployment(deployment_id)
                if str(deployment.status).upper().endswith(".READY"):
                    break
                await asyncio.sleep(0.5)
            return await client.read_flow_run(created.id), started, deployment

    finished, started, deployment = asyncio.run(scenario())
    assert started == [0, 1]
    assert finished.state is not None
    assert finished.state.is_completed()
    assert str(deployment.status).upper().endswith(".READY")  # DeploymentStatus.READY, not NOT_READY
    assert RAN == ["rd"]


def test_the_follow_ups_of_prefect_yaml_are_built_with_their_flows_and_triggers() -> None:
    built = {deployment.name: (deployment, served) for deployment, served in build_deployments()}
    assert {"contract-signed", "settlement-result", "bounced-order"} <= set(built)
    contract, contract_flow = built["contract-signed"]
    assert contract_flow.name == "contract-signed"
    (trigger,) = contract.triggers
    assert trigger.for_each == {"lingong.signing-group"}  # once per onboarding batch
    assert trigger.within.total_seconds() == 300
    assert trigger.parameters["onboarding_run"].startswith("{{ event.resource.get('lingong.onboarding-run'")
