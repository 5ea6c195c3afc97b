"""Schemathesis fuzzes every query and mutation of a running `appmanage serve` with an ADMIN
token: no answer may be a 5xx, and the server may log no unhandled exception. Bounded by
FUZZ_EXAMPLES per operation (APPMANAGE_FUZZ_EXAMPLES overrides it)."""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings

from appmanage.config import Settings
from tests.support.graphql import ADMIN_TOKEN, bearer
from tests.support.processes import start_server, stop_server

pytestmark = pytest.mark.docker

FUZZ_EXAMPLES = int(os.environ.get("APPMANAGE_FUZZ_EXAMPLES", "100"))
UNHANDLED = ("Traceback", "unexpected error", "Exception in ASGI application")


@pytest.fixture(scope="module")
def fuzzed(
    settings: Settings, workers: list[subprocess.Popen[bytes]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """`appmanage serve` with its console output kept; yields its URL and that output's file."""
    output = tmp_path_factory.mktemp("fuzz") / "serve.log"
    server = start_server(settings, log=output)
    try:
        yield server.http, output
    finally:
        stop_server(server)


def test_schemathesis_finds_no_server_error(fuzzed: tuple[str, Path]) -> None:
    url, output = fuzzed
    schema = schemathesis.graphql.from_url(url, headers=bearer(ADMIN_TOKEN))
    requests: dict[str, int] = {}
    server_errors: list[str] = []
    statuses: Counter[int] = Counter()

    for result in schema.get_all_operations():
        operation = result.ok()
        requests[operation.label] = 0

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=FUZZ_EXAMPLES,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            response = case.call(headers=bearer(ADMIN_TOKEN), timeout=30)
            requests[operation.label] += 1  # noqa: B023 (run right here, in this iteration)
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                server_errors.append(f"{response.status_code} {case.body!r}: {response.text[:300]}")

        fuzz()

    total = sum(requests.values())
    print(f"\nschemathesis: {total} requests over {len(requests)} operations, answers {dict(statuses)}")
    assert len(requests) >= 20 and total >= len(requests) * 5, requests
    assert 401 not in statuses and statuses[200] > total // 2, statuses
    assert server_errors == []
    log = output.read_text(errors="replace")
    assert not [marker for marker in UNHANDLED if marker in log], log[-3000:]
