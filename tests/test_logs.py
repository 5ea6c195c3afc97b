"""The shared service log: rotation by one process, the others follow."""

from __future__ import annotations

import logging
from pathlib import Path

from appmanage.logs import SharedTimedRotatingFileHandler


def handler(path: Path) -> SharedTimedRotatingFileHandler:
    made = SharedTimedRotatingFileHandler(path, when="midnight", backupCount=3, encoding="utf-8", utc=True)
    made.setFormatter(logging.Formatter("%(message)s"))
    return made


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, message, None, None)


def test_a_second_process_follows_a_rotation_instead_of_repeating_it(tmp_path: Path) -> None:
    path = tmp_path / "appmanage.log"
    first, second = handler(path), handler(path)
    first.emit(record("before"))
    second.emit(record("before, too"))

    first.doRollover()
    second.doRollover()
    first.emit(record("after"))
    second.emit(record("after, too"))
    first.close()
    second.close()

    rotated = [p for p in tmp_path.iterdir() if p.name.startswith("appmanage.log.") and not p.name.endswith(".lock")]
    assert len(rotated) == 1
    assert rotated[0].read_text() == "before\nbefore, too\n"
    assert path.read_text() == "after\nafter, too\n"
