"""What keeps an idle `appmanage run` small (issue 12): services never import the API
client, the API imports prometheus_client at the first scrape only, the agent's forked
workers leave recovery to its watcher (a standalone worker still runs it), and every
AppManage process is held to two malloc arenas unless MALLOC_ARENA_MAX says otherwise."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from typing import Any

import pytest

from appmanage import agent, cli
from appmanage.config import Settings


def python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    done = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_service_command_never_imports_the_api_client() -> None:
    code = (
        "import sys; from appmanage.cli import main\n"
        "assert main(['agent', '--host', 'Not A Host']) == 2\n"
        "print(sorted(m for m in sys.modules if m.startswith('appmanage.client')))"
    )
    assert python(code) == "[]"


def test_a_client_command_still_parses() -> None:
    code = (
        "from appmanage.cli import main\ntry:\n    main(['apps', '--help'])\nexcept SystemExit as e:\n    print(e.code)"
    )
    assert python(code).endswith("0")


def test_the_api_imports_prometheus_client_only_when_scraped() -> None:
    code = "import sys, appmanage.app, appmanage.serving\nprint('prometheus_client' in sys.modules)"
    assert python(code) == "False"


@pytest.fixture
def works(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def work(settings: Settings, **options: Any) -> int:
        calls.append(options)
        return 0

    import appmanage.jobs.worker

    monkeypatch.setattr(appmanage.jobs.worker, "work", work)
    monkeypatch.setattr(agent, "setup_logging", lambda *_: None)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "2")  # nothing to change in this process
    return calls


def test_the_agents_workers_leave_recovery_to_its_watcher(settings: Settings, works: list[dict[str, Any]]) -> None:
    assert agent._worker(settings)() == 0
    assert works == [{"burst": False, "migrate": False, "recover": False}]


def test_a_standalone_worker_runs_recovery(settings: Settings, works: list[dict[str, Any]]) -> None:
    assert cli.run_worker(settings) == 0
    assert works == [{"burst": False, "migrate": True, "recover": True}]


def test_two_malloc_arenas_unless_the_operator_says_otherwise() -> None:
    code = "import os; from appmanage.forking import limit_malloc_arenas\nlimit_malloc_arenas()\n"
    assert python(code + "print(os.environ['MALLOC_ARENA_MAX'])") == "2"
    assert python(code + "print(os.environ['MALLOC_ARENA_MAX'])", MALLOC_ARENA_MAX="8") == "8"


def test_the_server_freezes_what_its_start_built(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once started, a collection never scans (so never writes) the start-up's objects again."""
    import uvicorn

    from appmanage import serving

    frozen: list[int] = []

    def run(app: Any, **_: Any) -> None:
        from starlette.testclient import TestClient

        with TestClient(app):
            frozen.append(gc.get_freeze_count())
        gc.unfreeze()

    monkeypatch.setattr(uvicorn, "run", run)
    gc.unfreeze()
    assert serving.serve_api(settings) == 0
    assert frozen and frozen[0] > 0
