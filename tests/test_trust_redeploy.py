"""W9_URL follows the port it derives from on redeploy, unless the operator set it; it can
be set on redeploy (tests/fixtures/websoft9/w9hello on the real worker and Docker)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appmanage.catalog.params import resolve_settings
from appmanage.config import Settings
from appmanage.errors import ValidationFailed
from tests.support.graphql import GraphQLClient
from tests.support.ports import free_port
from tests.support.websoft9 import container_env, fixture_catalog

HOST = "box.example"


def test_a_derived_url_follows_its_port_and_a_set_one_stays() -> None:
    app = fixture_catalog().apps["w9hello"]
    installed = resolve_settings(app, {"W9_HTTP_PORT_SET": "18080"}, host=HOST)
    assert installed["W9_URL"] == "box.example:18080"
    moved = resolve_settings(app, {"W9_HTTP_PORT_SET": "18081"}, previous=installed, host=HOST)
    assert moved["W9_URL"] == "box.example:18081"
    assert moved["W9_POWER_PASSWORD"] == installed["W9_POWER_PASSWORD"]

    named = resolve_settings(app, {"W9_URL": "apps.example.com"}, previous=moved, host=HOST)
    assert named["W9_URL"] == "apps.example.com"
    kept = resolve_settings(app, {"W9_HTTP_PORT_SET": "18082"}, previous=named, host=HOST)
    assert (kept["W9_URL"], kept["W9_HTTP_PORT_SET"]) == ("apps.example.com", "18082")
    with pytest.raises(ValidationFailed) as fixed:
        resolve_settings(app, {"W9_POWER_PASSWORD": "other"}, previous=kept, host=HOST)
    assert fixed.value.field == "W9_POWER_PASSWORD"


def redeploy(api: GraphQLClient, name: str, **settings: str) -> dict[str, str]:
    given = [{"key": k, "value": v} for k, v in settings.items()]
    result = api.act("redeployApp", name=name, settings=given)
    assert result["__typename"] == "JobAccepted", result
    job = api.wait_job(result["job"]["id"])
    assert job["state"] == "SUCCEEDED", job
    api.wait_status(name, "RUNNING")
    return container_env(name)


def shown_url(api: GraphQLClient, name: str) -> str:
    app = api.app(name)
    assert app is not None
    return str(next(s["value"] for s in app["settings"] if s["key"] == "W9_URL"))


@pytest.mark.docker
def test_redeploy_with_a_new_port_moves_w9_url_unless_it_was_set(
    w9_network: str,
    api: GraphQLClient,
    app_name: Callable[[str], str],
    settings: Settings,
) -> None:
    host = settings.public_host
    name, first, second, third = app_name("w9url"), free_port(), free_port(), free_port()
    result = api.install("w9hello", name, W9_HTTP_PORT_SET=str(first), W9_NETWORK=w9_network)
    assert result["__typename"] == "JobAccepted", result
    assert api.wait_job(result["job"]["id"])["state"] == "SUCCEEDED"
    api.wait_status(name, "RUNNING")
    assert container_env(name)["W9_URL"] == f"{host}:{first}"

    assert redeploy(api, name, W9_HTTP_PORT_SET=str(second))["W9_URL"] == f"{host}:{second}"
    assert shown_url(api, name) == f"{host}:{second}"

    assert redeploy(api, name, W9_URL="https://apps.example.com")["W9_URL"] == "https://apps.example.com"
    env = redeploy(api, name, W9_HTTP_PORT_SET=str(third))
    assert (env["W9_URL"], env["W9_HTTP_PORT_SET"]) == ("https://apps.example.com", str(third))
    assert shown_url(api, name) == "https://apps.example.com"
