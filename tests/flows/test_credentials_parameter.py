"""Every flow that takes credentials offers a picker of saved LingongCredentials Blocks in its deployment's
form (its parameter schema names the Block type), and a Block's name still works as before."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from typing import Any

import pytest
from prefect.flows import Flow
from prefect.utilities.callables import parameter_schema
from pydantic import SecretStr

import flows
from flows.payroll_run import payroll_run_deployed
from tasks.credentials import LingongCredentials, credentials_name


def _flows_with_credentials() -> list[tuple[str, Flow[Any, Any]]]:
    found = []
    for info in pkgutil.iter_modules(flows.__path__):
        module = importlib.import_module(f"flows.{info.name}")
        for name, value in vars(module).items():
            if (
                isinstance(value, Flow)
                and value.fn.__module__ == module.__name__
                and "credentials_block" in inspect.signature(value.fn).parameters
            ):
                found.append((f"{info.name}.{name}", value))
    return found


FLOWS = _flows_with_credentials()


def test_every_flow_with_credentials_is_found() -> None:
    names = {name for name, _ in FLOWS}
    assert {"payroll_run.payroll_run_deployed", "contract_signed.contract_signed", "fund_account.fund_account"} <= names
    assert len(FLOWS) >= 14


@pytest.mark.parametrize(("name", "flow"), FLOWS, ids=[name for name, _ in FLOWS])
def test_the_deployment_form_offers_the_credentials_block(name: str, flow: Flow[Any, Any]) -> None:
    schema = parameter_schema(flow.fn).model_dump_for_openapi()
    options = schema["properties"]["credentials_block"]["anyOf"]
    assert {"$ref": "#/definitions/LingongCredentials"} in options, name
    assert {"type": "string"} in options  # a Block's name, as older runs and code pass it
    assert schema["definitions"]["LingongCredentials"]["block_type_slug"] == "lingong-credentials"


def test_payroll_run_deployed_is_among_them() -> None:
    assert any(flow is payroll_run_deployed for _, flow in FLOWS)


def test_tasks_get_the_block_name_whichever_form_it_came_in() -> None:
    assert credentials_name(None) is None
    assert credentials_name("") is None
    assert credentials_name("lingong-prod") == "lingong-prod"
    unsaved = LingongCredentials(base_url="http://127.0.0.1:1", merchant_no="1", private_key=SecretStr("k"))
    with pytest.raises(ValueError, match="credentials_block: save"):
        credentials_name(unsaved)
    unsaved._block_document_name = "lingong-sandbox"
    unsaved._is_anonymous = False
    assert credentials_name(unsaved) == "lingong-sandbox"
