"""GraphQL over HTTP: one client for the in-process app (Starlette's TestClient) and for a
real server's URL (httpx), the admin token of every test server, and the documents the
tests share."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.support.waiting import wait_for

ADMIN_TOKEN = "amt_test_" + secrets.token_urlsafe(24)  # APPMANAGE_ADMIN_TOKEN of every test server
FINISHED = ("SUCCEEDED", "FAILED", "CANCELED")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class GraphQLFailure(AssertionError):
    """The API answered, but not with data: a status other than 200 or GraphQL errors."""


class GraphQLClient:
    """`execute` returns `data` or raises GraphQLFailure; `post` returns the raw answer."""

    def __init__(self, client: httpx.Client, token: str = ADMIN_TOKEN) -> None:
        self.client = client
        self.headers = bearer(token)

    @classmethod
    def over_http(cls, base_url: str, token: str = ADMIN_TOKEN, timeout: float = 30) -> GraphQLClient:
        """A client of the server at `base_url` (http://host:port, without /graphql)."""
        return cls(httpx.Client(base_url=base_url, timeout=timeout), token)

    def post(self, query: str, **variables: Any) -> httpx.Response:
        return self.client.post("/graphql", json={"query": query, "variables": variables}, headers=self.headers)

    def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.post(query, **variables)
        if response.status_code != 200:
            raise GraphQLFailure(f"HTTP {response.status_code}: {response.text[:500]}")
        body = response.json()
        if "errors" in body:
            raise GraphQLFailure(body["errors"])
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
        def finished() -> dict[str, Any] | None:
            job = self.job(job_id)
            return job if job["state"] in FINISHED else None

        return wait_for(finished, timeout, f"job {job_id} to finish")

    def wait_status(self, name: str, *statuses: str, timeout: float = 60) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            app = self.app(name)
            return app if app is not None and app["status"] in statuses else None

        return wait_for(check, timeout, f"{name} to be {' or '.join(statuses)} (last: {self.app(name)})")

    def close(self) -> None:
        self.client.close()


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
STATUS_SUBSCRIPTION = """subscription($name: String) {
    appStatusChanged(name: $name) { cursor app status previous statusReason at }
}"""
