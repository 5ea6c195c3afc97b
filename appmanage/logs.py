"""The service log: `<data>/logs/appmanage.log`, rotated at midnight (UTC), kept
`APPMANAGE_LOG_RETENTION_DAYS` days. The API, the workers and the watcher all write to
it; the first of them past midnight rotates it, the others follow to the new file.

No request body or query string is ever written: uvicorn logs the path of each request
and websocket with its query string (a GET request's GraphQL variables, secrets among
them), so `PathsOnly` cuts every such path at its `?` before a handler writes it."""

from __future__ import annotations

import fcntl
import logging
import os
import sys
import time
from logging.handlers import TimedRotatingFileHandler

from appmanage.config import Settings

FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s"


class SharedTimedRotatingFileHandler(TimedRotatingFileHandler):
    def doRollover(self) -> None:
        with open(f"{self.baseFilename}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not self._rotated_elsewhere():
                super().doRollover()
                return
            if self.stream:
                self.stream.close()
            self.stream = self._open()
            self.rolloverAt = self.computeRollover(int(time.time()))

    def _rotated_elsewhere(self) -> bool:
        if self.stream is None:
            return False
        try:
            return os.stat(self.baseFilename).st_ino != os.fstat(self.stream.fileno()).st_ino
        except (OSError, ValueError):
            return False


class PathsOnly(logging.Filter):
    """Cut the query string off every request path a record carries as an argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_path_only(arg) for arg in record.args)
        return True


def _path_only(arg: object) -> object:
    if isinstance(arg, str) and arg.startswith("/") and "?" in arg:
        return arg.partition("?")[0]
    return arg


def setup_logging(settings: Settings, process: str) -> None:
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    path = settings.logs_dir / "appmanage.log"
    file_handler = SharedTimedRotatingFileHandler(
        path, when="midnight", backupCount=settings.log_retention_days, encoding="utf-8", utc=True
    )
    os.chmod(path, 0o600)
    console = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter(FORMAT.replace("%(name)s", f"{process} %(name)s"))
    for handler in (file_handler, console):
        handler.setFormatter(formatter)
        handler.addFilter(PathsOnly())
    root = logging.getLogger()
    root.handlers[:] = [file_handler, console]
    root.setLevel(settings.log_level)
