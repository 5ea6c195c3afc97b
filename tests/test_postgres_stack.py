"""The whole product on PostgreSQL: `appmanage migrate`, the API, workers and watcher as real
processes on a private PostgreSQL database, through install, stop, start and uninstall."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from appmanage.config import Settings
from appmanage.storage.database import Database
from appmanage.storage.models import App, Job
from tests.support.databases import private_postgres_url
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.processes import Stack
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker


def done(api: GraphQLClient, result: dict[str, Any]) -> None:
    assert result["__typename"] == "JobAccepted", result
    job = api.wait_job(result["job"]["id"])
    assert job["state"] == "SUCCEEDED", job


def page(port: int) -> str | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).text
    except httpx.HTTPError:
        return None


def test_install_stop_start_uninstall_on_postgres(settings: Settings, app_name: Callable[[str], str]) -> None:
    with private_postgres_url() as url:
        stack = Stack.create(settings)
        # the spelling an operator writes: no driver, psycopg 3 is implied
        plain = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        stack.settings = replace(stack.settings, database_url=plain)
        database = Database(url)
        try:
            stack.start(workers=2, watcher=True)
            api = stack.client()
            name, port = app_name("pg"), free_port()

            installed = api.install("hello", name, HTTP_PORT=str(port))
            assert installed["__typename"] == "JobAccepted", installed
            done(api, installed)
            api.wait_status(name, "RUNNING")
            wait_for(lambda: page(port), 30, "hello's page")

            done(api, api.act("stopApp", name=name))
            assert api.wait_status(name, "EXITED")["statusReason"] == "stopped by the operator"
            done(api, api.act("startApp", name=name))
            api.wait_status(name, "RUNNING")

            with database.read() as session:
                assert session.get(App, name) is not None
                kinds = session.scalars(select(Job.kind).where(Job.app_name == name).order_by(Job.created_at))
                assert [kind.value for kind in kinds] == ["INSTALL", "STOP", "START"]

            done(api, api.act("uninstallApp", name=name))
            wait_for(lambda: api.app(name) is None, 30, f"{name} to be gone")
            with database.read() as session:
                assert session.scalar(select(func.count()).select_from(App).where(App.name == name)) == 0
            api.close()
        finally:
            stack.remove()
            database.dispose()
