"""`appsConnection`: pages by name cover every app once, the status filter, totalCount, the
errors of a bad `first` or cursor; and the API's AppStates follow the event stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from appmanage.app import create_app
from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.enums import JobKind
from appmanage.jobs import records
from appmanage.services import Services
from appmanage.storage.models import App, utcnow
from tests.support.graphql import GraphQLClient
from tests.support.services import private_services
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker

APPS = 23
BUSY = {3, 8, 15}  # these have a job in flight: INSTALLING
PAGE = """query($first: Int, $after: String, $status: AppStatus) {
  appsConnection(first: $first, after: $after, status: $status) {
    totalCount edges { cursor node { name status } } pageInfo { hasNextPage endCursor }
  }
}"""


def add_app(services: Services, name: str, busy: bool = False) -> None:
    now = utcnow()
    with services.db.write() as session:
        session.add(
            App(
                name=name,
                catalog_app="hello",
                source=str(SHIPPED_CATALOG),
                version="1",
                settings={},
                host_ports=[],
                installed=True,
                desired_running=True,
                created_at=now,
                updated_at=now,
            )
        )
        if busy:
            session.flush()
            records.new_job(session, name, JobKind.INSTALL)


@pytest.fixture
def stocked(settings: Settings, tmp_path: Path, database_url: str) -> Iterator[tuple[Services, GraphQLClient]]:
    """An API of its own over a database (each backend) holding APPS apps (no containers:
    FAILED, or INSTALLING while a job is in flight), inserted in shuffled order."""
    with private_services(settings, tmp_path, database_url=database_url) as services:
        for index in sorted(range(APPS), key=lambda i: (i * 7) % APPS):
            add_app(services, f"page-{index:02d}", busy=index in BUSY)
        with TestClient(create_app(services.settings)) as client:
            yield services, GraphQLClient(client)


def pages(api: GraphQLClient, first: int, status: str | None = None) -> list[dict[str, Any]]:
    found, after = [], None
    while True:
        page = api.execute(PAGE, first=first, after=after, status=status)["appsConnection"]
        found.append(page)
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def test_pages_cover_every_app_once_by_name(stocked: tuple[Services, GraphQLClient]) -> None:
    _, api = stocked
    found = pages(api, 5)
    names = [edge["node"]["name"] for page in found for edge in page["edges"]]
    assert names == [f"page-{index:02d}" for index in range(APPS)]
    assert [len(page["edges"]) for page in found] == [5, 5, 5, 5, 3]
    assert {page["totalCount"] for page in found} == {APPS}
    assert all(page["pageInfo"]["endCursor"] == page["edges"][-1]["cursor"] for page in found)
    assert "page-" not in found[0]["pageInfo"]["endCursor"], "cursors are opaque"
    assert names == [a["name"] for a in api.execute("{ apps { name } }")["apps"]]


def test_status_filter_and_total_count(stocked: tuple[Services, GraphQLClient]) -> None:
    _, api = stocked
    busy = pages(api, 2, "INSTALLING")
    nodes = [edge["node"] for page in busy for edge in page["edges"]]
    assert [n["name"] for n in nodes] == [f"page-{index:02d}" for index in sorted(BUSY)]
    assert {n["status"] for n in nodes} == {"INSTALLING"}
    assert busy[0]["totalCount"] == len(BUSY)
    failed = api.execute(PAGE, first=500, status="FAILED")["appsConnection"]
    assert failed["totalCount"] == APPS - len(BUSY) == len(failed["edges"])
    assert failed["pageInfo"] == {"hasNextPage": False, "endCursor": failed["edges"][-1]["cursor"]}
    none = api.execute(PAGE, first=10, status="RUNNING")["appsConnection"]
    assert none == {"totalCount": 0, "edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


@pytest.mark.parametrize(
    ("first", "after", "argument"),
    [
        (0, None, "first"),
        (501, None, "first"),
        (-3, None, "first"),
        (5, "not-a-cursor", "after"),
        (5, "YXBwOg==", "after"),
    ],
)
def test_bad_first_or_cursor_is_a_clear_error(
    stocked: tuple[Services, GraphQLClient], first: int, after: str | None, argument: str
) -> None:
    _, api = stocked
    body = api.post(PAGE, first=first, after=after).json()
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}
    assert argument in error["message"]


def test_an_event_about_an_app_refreshes_it(stocked: tuple[Services, GraphQLClient]) -> None:
    """A row written elsewhere shows once the stream names its app, as a worker's job event does."""
    services, api = stocked
    assert len(api.execute("{ apps { name } }")["apps"]) == APPS  # the store is warm
    add_app(services, "page-zz", busy=True)
    services.stream.publish("job", {"job": {"app": "page-zz"}, "line": None})

    def shown() -> dict[str, Any] | None:
        apps = api.execute("{ apps { name status } }")["apps"]
        return next((a for a in apps if a["name"] == "page-zz"), None)

    assert wait_for(shown, timeout=10, what="page-zz in apps") == {"name": "page-zz", "status": "INSTALLING"}
    assert api.execute(PAGE, first=1, status="INSTALLING", after=None)["appsConnection"]["totalCount"] == 4
