"""The service log: `<data>/logs/appmanage.log`, rotated at midnight."""

from __future__ import annotations

import logging
import sys
from logging.handlers import TimedRotatingFileHandler

from appmanage.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"


def setup_logging(settings: Settings, process: str) -> None:
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    file_handler = TimedRotatingFileHandler(
        settings.logs_dir / "appmanage.log",
        when="midnight",
        backupCount=settings.log_retention_days,
        encoding="utf-8",
        utc=True,
    )
    console = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(FORMAT.replace("%(name)s", f"{process} %(name)s"))
    for handler in (file_handler, console):
        handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [file_handler, console]
    root.setLevel(settings.log_level)
