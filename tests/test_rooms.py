"""The rooms keep to their side of the queue: the worker and the watcher never load the
API's submission path, and every process builds its Services whole."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from appmanage.config import Settings
from appmanage.runtime.container_cache import ContainerCache
from appmanage.services import Services

WORKER_SIDE = ("appmanage.jobs.worker", "appmanage.jobs.runner", "appmanage.jobs.recovery", "appmanage.watcher.main")


def test_the_worker_and_the_watcher_do_not_load_the_api_side() -> None:
    probe = (
        "import importlib, sys\n"
        f"for module in {WORKER_SIDE!r}: importlib.import_module(module)\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith(('appmanage.apps', 'appmanage.schema',"
        " 'appmanage.resolvers')))))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_services_take_their_container_reader_when_built(settings: Settings, tmp_path: Path) -> None:
    cache = ContainerCache()
    services = Services(replace(settings, data_dir=tmp_path / "data", database_url=""), containers=cache)
    try:
        assert services.containers is cache
    finally:
        services.close()
