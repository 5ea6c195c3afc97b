"""The service log: `<data>/logs/appmanage.log`, rotated at midnight (UTC), kept
`APPMANAGE_LOG_RETENTION_DAYS` days. The API, the workers and the watcher all write to
it; the first of them past midnight rotates it, the others follow to the new file."""

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
    root = logging.getLogger()
    root.handlers[:] = [file_handler, console]
    root.setLevel(settings.log_level)
