"""The payroll-run deployment's form offers a picker of saved LingongCredentials Blocks (its parameter
schema names the Block type), and a Block's name still works as before."""

from __future__ import annotations

import pytest
from prefect.utilities.callables import parameter_schema
from pydantic import SecretStr

from flows.payroll_run import payroll_run_deployed
from tasks.credentials import LingongCredentials, credentials_name


def test_the_deployment_form_offers_the_credentials_block() -> None:
    schema = parameter_schema(payroll_run_deployed.fn).model_dump_for_openapi()
    options = schema["properties"]["credentials_block"]["anyOf"]
    assert {"$ref": "#/definitions/LingongCredentials"} in options
    assert {"type": "string"} in options  # a Block's name, as older runs and code pass it
    assert schema["definitions"]["LingongCredentials"]["block_type_slug"] == "lingong-credentials"


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
