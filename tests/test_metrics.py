"""`/metrics` in Prometheus' format and the probes `/livez` and `/readyz`, on the real stack."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from appmanage.app import create_app
from appmanage.config import Settings
from tests.support.faults import PrivateRedis
from tests.support.graphql import ADMIN_TOKEN, GraphQLClient, bearer
from tests.support.ports import free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.docker


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client: TestClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=bearer(ADMIN_TOKEN))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


def test_metrics_need_a_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    refused = client.get("/metrics", headers=bearer("amt_not_a_token_at_all_but_long_enough"))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"
    assert client.get("/healthz").status_code == 200  # kept as it was


def test_metrics_public_serves_without_a_token(settings: Settings, workers: object) -> None:
    with TestClient(create_app(replace(settings, metrics_public=True))) as public:
        found = samples(public.get("/metrics").text)
    assert found[("appmanage_up", (("component", "database"),))] == 1
    assert found[("appmanage_up", (("component", "redis"),))] == 1


def test_counts_move_after_an_install(client: TestClient, api: GraphQLClient, app_name: Callable[[str], str]) -> None:
    before = scrape(client)
    running = ("appmanage_apps", (("status", "RUNNING"),))
    installs = ("appmanage_jobs", (("kind", "INSTALL"), ("state", "SUCCEEDED")))
    durations = ("appmanage_job_duration_seconds_count", (("kind", "INSTALL"),))
    for key in (
        running,
        installs,
        durations,
        ("appmanage_workers", ()),
        ("appmanage_queue_depth", (("host", "local"),)),
    ):
        assert key in before, key
    wait_for(lambda: scrape(client)[("appmanage_workers", ())] >= 1, 20, "the workers registered")
    assert before[("appmanage_up", (("component", "docker"),))] == 1

    name = app_name("metrics")
    job = api.install("hello", name, HTTP_PORT=str(free_port()))["job"]
    assert api.wait_job(job["id"])["state"] == "SUCCEEDED"
    api.wait_status(name, "RUNNING")

    after = wait_for(lambda: (s := scrape(client))[running] == before[running] + 1 and s, 20, "RUNNING counted")
    assert after[installs] == before[installs] + 1
    assert after[durations] == before[durations] + 1
    assert after[("appmanage_job_duration_seconds_bucket", (("kind", "INSTALL"), ("le", "+Inf")))] == after[durations]
    assert after[("appmanage_job_duration_seconds_sum", (("kind", "INSTALL"),))] > 0
    assert after[("appmanage_event_stream_length", ())] > before.get(("appmanage_event_stream_length", ()), 0)
    assert ("appmanage_subscribers", ()) in after and ("appmanage_event_stream_lag_seconds", ()) in after


def test_probes(client: TestClient) -> None:
    assert client.get("/livez").json() == {"ok": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"ready": True, "database": True, "redis": True, "docker": True}


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    yield redis
    redis.kill()


def test_readyz_fails_when_redis_is_down(settings: Settings, private_redis: PrivateRedis) -> None:
    own = replace(settings, redis_url=private_redis.url)
    with TestClient(create_app(own)) as client:
        assert client.get("/readyz").status_code == 200
        private_redis.kill()
        down = client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["redis"] is False and down.json()["database"] is True
        assert client.get("/livez").status_code == 200
        found = scrape(client)
        assert found[("appmanage_up", (("component", "redis"),))] == 0
        assert found[("appmanage_up", (("component", "database"),))] == 1
        assert ("appmanage_workers", ()) not in found
