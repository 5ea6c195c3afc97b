"""Small tools the tests share: GraphQL calls, waiting, free ports."""

from __future__ import annotations

import random
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.testclient import TestClient

T = TypeVar("T")
ADMIN_TOKEN = "amt_test_" + secrets.token_urlsafe(24)  # APPMANAGE_ADMIN_TOKEN of every test server


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class GraphQLClient:
    def __init__(self, client: TestClient, token: str = ADMIN_TOKEN) -> None:
        self.client = client
        self.headers = bearer(token)

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.client.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def app(self, name: str) -> dict[str, Any] | None:
        app: dict[str, Any] | None = self.execute(APP_QUERY, name=name)["app"]
        return app

    def job(self, job_id: str) -> dict[str, Any]:
        job: dict[str, Any] = self.execute(JOB_QUERY, id=job_id)["job"]
        return job

    def install(self, catalog_app: str, name: str, version: str | None = None, **settings: str) -> dict[str, Any]:
        data = self.execute(
            INSTALL,
            input={
                "catalogApp": catalog_app,
                "name": name,
                "version": version,
                "settings": [{"key": k, "value": v} for k, v in settings.items()],
            },
        )
        result: dict[str, Any] = data["installApp"]
        return result

    def act(self, mutation: str, **arguments: Any) -> dict[str, Any]:
        signature = ", ".join(f"${k}: {ARG_TYPES[k]}" for k in arguments)
        call = ", ".join(f"{k}: ${k}" for k in arguments)
        query = (
            f"mutation({signature}) {{ result: {mutation}({call}) {{ {RESULT_FIELDS.get(mutation, ACTION_FIELDS)} }} }}"
        )
        result: dict[str, Any] = self.execute(query, **arguments)["result"]
        return result

    def wait_job(self, job_id: str, timeout: float = 90) -> dict[str, Any]:
        return wait_for(lambda: _finished(self.job(job_id)), timeout, f"job {job_id} to finish")

    def wait_status(self, name: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            app = self.app(name)
            return app if app is not None and app["status"] in statuses else None

        return wait_for(check, timeout, f"{name} to be {' or '.join(statuses)} (last: {self.app(name)})")


def _finished(job: dict[str, Any]) -> dict[str, Any] | None:
    return job if job["state"] in ("SUCCEEDED", "FAILED", "CANCELED") else None


def wait_for(check: Callable[[], T | None], timeout: float, what: str) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.2)


def free_port() -> int:
    """A free port below Linux's ephemeral range (32768 and up), so that no outgoing
    connection takes it while an app holding it is stopped."""
    while True:
        port = random.randint(20_000, 32_000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


ARG_TYPES = {
    "name": "String!",
    "version": "String!",
    "settings": "[SettingInput!]",
    "purgeData": "Boolean",
    "id": "ID!",
}

JOB_FIELDS = "id app kind state step progress error log createdAt startedAt finishedAt"
APP_FIELDS = f"""
    name catalogApp version status statusReason availableActions
    services {{ name state health exitCode image }}
    ports {{ service hostIp hostPort containerPort protocol }}
    settings {{ key value secret }}
    activeJob {{ {JOB_FIELDS} }}
    jobs {{ {JOB_FIELDS} }}
    createdAt updatedAt
"""
ACCEPTED = f"... on JobAccepted {{ job {{ {JOB_FIELDS} }} app {{ name status statusReason }} }}"
ERRORS = "... on Error { message } ... on ValidationError { field }"
NOT_ALLOWED = "... on ActionNotAllowedError { status allowed }"
RESULT_FIELDS = {
    "installApp": f"__typename {ACCEPTED} {ERRORS}",
    "cancelJob": f"__typename ... on JobCanceled {{ job {{ {JOB_FIELDS} }} }} ... on Error {{ message }} {NOT_ALLOWED}",
}
ACTION_FIELDS = f"__typename {ACCEPTED} {ERRORS} {NOT_ALLOWED}"
APP_QUERY = f"query($name: String!) {{ app(name: $name) {{ {APP_FIELDS} }} }}"
JOB_QUERY = f"query($id: ID!) {{ job(id: $id) {{ {JOB_FIELDS} }} }}"
INSTALL = f"mutation($input: InstallAppInput!) {{ installApp(input: $input) {{ {RESULT_FIELDS['installApp']} }} }}"
