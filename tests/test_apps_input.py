"""The API side's input, made once: settings as one mapping (a key given twice refused on
install, preview and redeploy alike), typed job parameters that old rows still load, one
record per job, one rule for secrets, and error unions that carry only their members."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from appmanage.apps.settings_input import given_settings
from appmanage.catalog.secrets import MASK, is_secret, secret_values
from appmanage.enums import JobKind, JobState
from appmanage.errors import Conflict, ValidationFailed
from appmanage.job_record import JobRecord
from appmanage.jobs.masking import MASK as WORKER_MASK
from appmanage.jobs.params import (
    InstallParams,
    RedeployParams,
    StartParams,
    UninstallParams,
    UpdateParams,
    params_of,
    to_json,
)
from appmanage.schema.errors import ConflictError, NotFoundError, error_result
from appmanage.storage.models import Job
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port


def test_settings_become_one_mapping_and_a_key_given_twice_is_refused() -> None:
    items = [SimpleNamespace(key="HTTP_PORT", value="8080"), SimpleNamespace(key="TITLE", value="x")]
    assert given_settings(items) == {"HTTP_PORT": "8080", "TITLE": "x"}
    assert given_settings(None) == {}
    with pytest.raises(ValidationFailed) as twice:
        given_settings([*items, SimpleNamespace(key="HTTP_PORT", value="9090")])
    assert (twice.value.message, twice.value.field) == ("HTTP_PORT is given twice", "HTTP_PORT")


def _job(kind: JobKind, params: dict[str, Any]) -> Job:
    return Job(id="j1", app_name="a", kind=kind, state=JobState.QUEUED, params=params, created_at=datetime.now(UTC))


def test_job_parameters_are_typed_and_rows_written_before_still_load() -> None:
    old_rows = {
        JobKind.REDEPLOY: {"settings": {"HTTP_PORT": "8081"}, "ports": [8081]},
        JobKind.UPDATE: {"version": "2", "from_version": "1"},
        JobKind.UNINSTALL: {"purge": True},
    }
    redeploy = params_of(_job(JobKind.REDEPLOY, old_rows[JobKind.REDEPLOY]), RedeployParams)
    assert redeploy == RedeployParams({"HTTP_PORT": "8081"}, [8081])
    assert params_of(_job(JobKind.UPDATE, old_rows[JobKind.UPDATE]), UpdateParams) == UpdateParams("2", "1")
    assert params_of(_job(JobKind.UNINSTALL, old_rows[JobKind.UNINSTALL]), UninstallParams).purge is True
    assert params_of(_job(JobKind.UNINSTALL, {}), UninstallParams).purge is False
    assert params_of(_job(JobKind.REDEPLOY, {}), RedeployParams) == RedeployParams({}, [])
    assert to_json(redeploy) == old_rows[JobKind.REDEPLOY]
    assert to_json(UpdateParams("2", "1")) == old_rows[JobKind.UPDATE]
    assert to_json(InstallParams()) == to_json(StartParams()) == {}
    with pytest.raises(TypeError):
        params_of(_job(JobKind.START, {}), UninstallParams)


def test_a_job_is_translated_once_and_its_json_reads_back() -> None:
    row = _job(JobKind.INSTALL, {})
    row.step, row.progress, row.started_at = "render", 0.1, datetime.now(UTC)
    record = JobRecord.from_row(row)
    assert JobRecord.from_json(record.to_json()) == record
    assert record.to_json()["kind"] == "INSTALL" and record.to_json()["finished_at"] is None


def test_one_rule_says_which_settings_are_secret() -> None:
    assert is_secret(None, "ANYTHING")
    assert secret_values(None, {"A": "x", "B": ""}) == ["x"]
    assert MASK == WORKER_MASK


def test_an_error_a_union_cannot_carry_is_raised_again() -> None:
    shaped = error_result(Conflict("taken"), NotFoundError, ConflictError)
    assert isinstance(shaped, ConflictError) and shaped.message == "taken"
    with pytest.raises(ValidationFailed):
        error_result(ValidationFailed("bad"), NotFoundError, ConflictError)


@pytest.mark.docker
def test_redeploy_refuses_a_key_given_twice_like_install(api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    name, port, other = app_name("twice"), free_port(), free_port()
    twice = [{"key": "HTTP_PORT", "value": str(other)}, {"key": "HTTP_PORT", "value": str(free_port())}]
    refused = api.execute(
        "mutation($input: InstallAppInput!) { installApp(input: $input) { __typename ... on ValidationError "
        "{ message field } } }",
        input={"catalogApp": "hello", "name": name, "settings": twice},
    )["installApp"]
    assert refused == {"__typename": "ValidationError", "message": "HTTP_PORT is given twice", "field": "HTTP_PORT"}

    job = api.install("hello", name, HTTP_PORT=str(port))["job"]
    assert api.wait_job(job["id"])["state"] == "SUCCEEDED"
    api.wait_status(name, "RUNNING", "RESTARTING", "UNHEALTHY")
    redeploy = api.act("redeployApp", name=name, settings=twice)
    assert redeploy["__typename"] == "ValidationError", redeploy
    assert (redeploy["message"], redeploy["field"]) == ("HTTP_PORT is given twice", "HTTP_PORT")
    app = api.app(name)
    assert app is not None and app["activeJob"] is None
    assert [p["hostPort"] for p in app["ports"]] == [port]
