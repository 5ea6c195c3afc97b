"""What makes the apps query cheap without weakening it: enum members answered by lookup,
each document parsed and validated once per text with every cap still applied, and the
store answering at once, without a thread, while nothing changed, yet seeing every change."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
import strawberry.schema.schema as strawberry_schema
from strawberry.schema.schema_converter import CustomGraphQLEnumType

import appmanage.app_states
from appmanage.app_states import AppStates
from appmanage.config import SHIPPED_CATALOG, Settings
from appmanage.enums import AppAction, AppStatus
from appmanage.runtime.container_cache import ContainerCache
from appmanage.runtime.containers import ONEOFF_LABEL, PROJECT_LABEL, SERVICE_LABEL
from appmanage.schema.enum_output import MemberLookupEnumType
from appmanage.schema.schema import build_schema, schema
from appmanage.storage.models import App, utcnow
from graphql import GraphQLError
from tests.support.services import private_services
from tests.support.waiting import wait_for

IMAGE = "appmanage-local/busybox:1"


def test_every_enum_member_is_answered_by_lookup_with_strawberrys_name() -> None:
    enum_types = [t for t in schema._schema.type_map.values() if isinstance(t, CustomGraphQLEnumType)]
    assert {t.name for t in enum_types} >= {"AppStatus", "AppAction", "JobState", "Role"}
    for enum_type in enum_types:
        assert type(enum_type) is MemberLookupEnumType, enum_type.name
        for member in enum_type.wrapped_cls:
            assert enum_type.coerce_output_value(member) == CustomGraphQLEnumType.coerce_output_value(enum_type, member)
    status = schema._schema.type_map["AppStatus"]
    assert isinstance(status, MemberLookupEnumType)
    assert status.names_by_member[AppStatus.FAILED] == "FAILED"
    assert status.coerce_output_value("EXITED") == "EXITED"  # a plain value, as graphql-core answers it
    with pytest.raises(GraphQLError, match="cannot represent"):
        status.coerce_output_value("NOT_A_STATUS")
    with pytest.raises(GraphQLError, match="cannot represent"):
        status.coerce_output_value(AppAction.START)  # another enum's member


class Calls:
    """Counts the calls of Strawberry's parse and graphql-core's validate, still calling them."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed = 0
        self.validated = 0
        monkeypatch.setattr(strawberry_schema, "parse", self._counting(strawberry_schema.parse, "parsed"))
        monkeypatch.setattr(strawberry_schema, "validate", self._counting(strawberry_schema.validate, "validated"))

    def _counting(self, real: Callable[..., Any], counter: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            setattr(self, counter, getattr(self, counter) + 1)
            return real(*args, **kwargs)

        return call


def capped(tmp_path: Path, **caps: Any) -> Any:
    return build_schema(Settings(data_dir=tmp_path, catalogs=(SHIPPED_CATALOG,), **caps))


def test_a_document_is_parsed_and_validated_once_per_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served, calls = capped(tmp_path), Calls(monkeypatch)
    for _ in range(3):
        assert served.execute_sync("{ __typename }").data == {"__typename": "Query"}
    assert (calls.parsed, calls.validated) == (1, 1)
    assert served.execute_sync("{  __typename }").data == {"__typename": "Query"}  # another text
    assert (calls.parsed, calls.validated) == (2, 2)
    other = capped(tmp_path)  # a schema of its own: its own memory
    assert other.execute_sync("{ __typename }").data == {"__typename": "Query"}
    assert (calls.parsed, calls.validated) == (3, 3)


def test_a_remembered_document_is_refused_each_time_as_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tight, calls = capped(tmp_path, max_query_depth=1, max_query_tokens=30), Calls(monkeypatch)
    too_deep = "{ apps { activeJob { id } } }"
    refusals = [tight.execute_sync(too_deep) for _ in range(3)]
    assert [[e.message for e in r.errors or ()] for r in refusals] == [
        ["'anonymous' exceeds maximum operation depth of 1"]
    ] * 3
    assert calls.validated == 1
    unknown = [tight.execute_sync("{ nope }") for _ in range(2)]
    assert all(r.errors and "Cannot query field 'nope'" in r.errors[0].message for r in unknown)
    broken = [tight.execute_sync("{ apps {") for _ in range(2)]
    assert all(r.errors and "Syntax Error" in r.errors[0].message for r in broken)
    too_long = [tight.execute_sync("{ " + "__typename " * 40 + "}") for _ in range(2)]
    assert all(r.errors and "token" in r.errors[0].message.lower() for r in too_long)
    assert calls.parsed == 1 + 1 + 2 + 2  # a text that does not parse is parsed again


@pytest.mark.docker
def test_an_unchanged_store_answers_without_a_thread_and_still_sees_every_change(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hops = []
    real_to_thread = appmanage.app_states.to_thread

    def counted(function: Callable[..., Any], *args: Any) -> Any:
        hops.append(function)
        return real_to_thread(function, *args)

    monkeypatch.setattr(appmanage.app_states, "to_thread", counted)
    name = f"speed-{secrets.token_hex(3)}"
    engine = docker.from_env()
    cache = ContainerCache()
    cache.start()
    try:
        with private_services(settings, tmp_path, containers=cache) as services:
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
            states: AppStates[AppStatus] = AppStates(services, lambda s: s.status.status, live=lambda: True)

            def answer() -> tuple[AppStatus, int]:
                before = len(hops)
                (state,) = [s for s in asyncio.run(states.current()) if s.snapshot.app.name == name]
                return state.view, len(hops) - before

            assert answer()[0] is AppStatus.FAILED  # installed, no container
            wait_for(lambda: answer() == (AppStatus.FAILED, 0), timeout=15, what="an answer without a thread")
            engine.containers.run(
                IMAGE,
                ["sleep", "60"],
                name=f"{name}-web-1",
                detach=True,
                network_mode="none",
                labels={PROJECT_LABEL: name, SERVICE_LABEL: "web", ONEOFF_LABEL: "False"},
            )
            assert wait_for(lambda: answer()[0] is AppStatus.RUNNING, timeout=15, what="the started container")
            wait_for(lambda: answer() == (AppStatus.RUNNING, 0), timeout=15, what="no thread once settled")
            states.touch(name)
            assert answer() == (AppStatus.RUNNING, 1)  # a touched app is recomputed
    finally:
        for container in engine.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={name}"}):
            container.remove(force=True)
        cache.close()
        engine.close()
