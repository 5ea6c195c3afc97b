"""The restic CLI against the backup repository, one command at a time.

Each command runs in its own process group with a timeout and can be canceled, like
compose (`runtime/processes.py`), ended with SIGINT so that it removes its lock (a lock
left by a restic killed outright is removed before a forget, which needs the repository
to itself), with the minimal environment (`runtime/environment.py`)
plus the repository, the password FILE (the password is never on a command line nor in a
log) and the credentials a remote backend reads from the environment. JSON status lines
of `backup --json` become `ResticProgress`; every other line is passed on as text, and a
failure carries restic's own words.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appmanage.errors import AppManageError
from appmanage.runtime.environment import subprocess_environment
from appmanage.runtime.processes import DeadlinePassed, Ending, run_in_group

RESTIC = "restic"
INCOMPLETE = 3  # `backup`: a snapshot was written, but some files could not be read
ENDING = Ending(stop=signal.SIGINT, grace=10.0, on_parent_death=signal.SIGINT)
"""SIGINT, not SIGTERM: restic then removes its lock from the repository before it exits."""
BACKEND_PREFIXES = ("AWS_", "B2_", "AZURE_", "GOOGLE_", "OS_", "ST_", "RCLONE_")
LOCKED = "repository is already locked"
NOT_A_REPOSITORY = ("unable to open config file", "Is there a repository at the following location?")

LineSink = Callable[[str], None]
CancelCheck = Callable[[], bool]
Tick = Callable[[], None]


class ResticError(AppManageError):
    """A restic command failed; the message ends with restic's own words."""


class ResticCanceled(ResticError):
    pass


@dataclass(frozen=True)
class ResticProgress:
    """One status line of `backup --json`."""

    fraction: float
    bytes_done: int
    total_bytes: int
    bytes_per_second: float
    seconds_remaining: float | None


@dataclass(frozen=True)
class Snapshot:
    id: str
    time: str
    hostname: str
    paths: list[str]
    tags: list[str]

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(tag.split("=", 1) for tag in self.tags if "=" in tag)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Snapshot:
        return cls(
            str(raw["id"]),
            str(raw["time"]),
            str(raw.get("hostname") or ""),
            list(raw["paths"]),
            list(raw.get("tags") or []),
        )


@dataclass(frozen=True)
class BackupSummary:
    snapshot_id: str
    """restic's short id as the summary gives it; `Restic.snapshot` finds the full one."""
    total_bytes_processed: int
    data_added: int
    seconds: float


@dataclass(frozen=True)
class ResticResult:
    returncode: int
    messages: list[dict[str, Any]]
    text: list[str]


class Restic:
    """restic on one repository; `init` creates it on first use."""

    def __init__(
        self,
        repository: str,
        password_file: Path,
        cache_dir: Path,
        timeout: float = 3600.0,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.repository = repository
        self.password_file = password_file
        self.cache_dir = cache_dir
        self.timeout = timeout
        source = os.environ if environ is None else environ
        self.env = {
            **subprocess_environment(source),
            **{k: v for k, v in source.items() if k.startswith(BACKEND_PREFIXES)},
            "RESTIC_REPOSITORY": repository,
            "RESTIC_PASSWORD_FILE": str(password_file),
            "RESTIC_CACHE_DIR": str(cache_dir),
        }

    def ensure_repository(self, on_line: LineSink | None = None) -> bool:
        """True when this call created the repository."""
        probe = self.run(["cat", "config"], check=False)
        if probe.returncode == 0:
            return False
        if not any(marker in line for line in probe.text for marker in NOT_A_REPOSITORY):
            raise ResticError(_failure("cat config", probe))
        created = self.run(["init"], on_line=on_line, check=False)
        if created.returncode != 0 and self.run(["cat", "config"], check=False).returncode != 0:
            raise ResticError(_failure("init", created))
        return created.returncode == 0  # else another worker created it first

    def backup(
        self,
        paths: Sequence[Path],
        tags: Mapping[str, str],
        host: str,
        on_progress: Callable[[ResticProgress], None] | None = None,
        on_line: LineSink | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> BackupSummary:
        args = ["backup", "--json", "--host", host]
        for key, value in tags.items():
            args += ["--tag", f"{key}={value}"]
        result = self.run(
            [*args, "--", *(str(p) for p in paths)],
            on_line=on_line,
            should_cancel=should_cancel,
            on_message=_progress_sink(on_progress),
            check=False,
        )
        summary = next((m for m in result.messages if m.get("message_type") == "summary"), None)
        if result.returncode == INCOMPLETE and summary is not None and summary.get("snapshot_id"):
            self.forget([str(summary["snapshot_id"])], on_line=on_line)
            raise ResticError(f"{_failure('backup', result)}; the incomplete snapshot was forgotten")
        if result.returncode != 0:
            raise ResticError(_failure("backup", result))
        if summary is None or not summary.get("snapshot_id"):
            raise ResticError(f"restic backup ended without a snapshot: {_last_words(result)}")
        return BackupSummary(
            str(summary["snapshot_id"]),
            int(summary.get("total_bytes_processed") or 0),
            int(summary.get("data_added") or 0),
            float(summary.get("total_duration") or 0.0),
        )

    def snapshots(self, *filters: str) -> list[Snapshot]:
        """Snapshots matching the filters (`--tag app=x`, or snapshot ids)."""
        result = self.run(["snapshots", "--json", *filters])
        found: list[Snapshot] = []
        for message in result.messages:
            items = message.get("items") if isinstance(message, dict) else None
            for raw in items if isinstance(items, list) else []:
                found.append(Snapshot.from_json(raw))
        return found

    def snapshot(self, snapshot_id: str) -> Snapshot:
        found = self.snapshots(snapshot_id)
        if not found:
            raise ResticError(f"restic has no snapshot {snapshot_id}")
        return found[0]

    def restore_size(self, snapshot_id: str) -> int:
        result = self.run(["stats", "--json", "--mode", "restore-size", snapshot_id])
        return int(next((m.get("total_size", 0) for m in result.messages), 0))

    def restore(
        self,
        snapshot_id: str,
        target: Path,
        on_line: LineSink | None = None,
        should_cancel: CancelCheck | None = None,
        tick: Tick | None = None,
    ) -> None:
        """Every blob is read and its MAC checked: a damaged pack fails here, with restic's words."""
        self.run(
            ["restore", snapshot_id, "--target", str(target)], on_line=on_line, should_cancel=should_cancel, tick=tick
        )

    def forget(
        self,
        snapshot_ids: Sequence[str] = (),
        keep: Mapping[str, int] | None = None,
        tag: str = "",
        prune: bool = False,
        on_line: LineSink | None = None,
    ) -> None:
        args = ["forget", "--json"]
        if tag:
            args += ["--tag", tag, "--group-by", ""]
        for key, value in (keep or {}).items():
            args += [f"--keep-{key}", str(value)]
        if prune:
            args.append("--prune")
        result = self.run([*args, *snapshot_ids], on_line=on_line, check=False)
        if result.returncode != 0 and any(LOCKED in line for line in result.text):
            self.unlock()  # a stale lock is gone now; a live one still refuses
            result = self.run([*args, *snapshot_ids], on_line=on_line, check=False)
        if result.returncode != 0:
            raise ResticError(_failure("forget", result))

    def unlock(self) -> None:
        """Remove the stale locks: those of restic processes gone from this host (or older than restic's limit)."""
        self.run(["unlock"], check=False)

    def run(
        self,
        args: Sequence[str],
        on_line: LineSink | None = None,
        should_cancel: CancelCheck | None = None,
        on_message: Callable[[dict[str, Any]], None] | None = None,
        tick: Tick | None = None,
        check: bool = True,
    ) -> ResticResult:
        messages: list[dict[str, Any]] = []
        text: list[str] = []
        what = args[0]

        def line(output: str) -> None:
            parsed = _json(output)
            if parsed is not None:
                messages.append(parsed)
                if on_message is not None:
                    on_message(parsed)
            else:
                text.append(output)
                if on_line is not None:
                    on_line(output)

        def poll() -> None:
            if tick is not None:
                tick()
            if should_cancel is not None and should_cancel():
                raise ResticCanceled(f"restic {what} was canceled")

        try:
            returncode = run_in_group(
                [RESTIC, *args], env=self.env, on_line=line, poll=poll, timeout=self.timeout, ending=ENDING
            )
        except DeadlinePassed as exc:
            raise ResticError(f"restic {what} {exc}") from exc
        result = ResticResult(returncode, messages, text)
        if check and returncode != 0:
            raise ResticError(_failure(what, result))
        return result


def _progress_sink(on_progress: Callable[[ResticProgress], None] | None) -> Callable[[dict[str, Any]], None]:
    started = time.monotonic()

    def sink(message: dict[str, Any]) -> None:
        if on_progress is None or message.get("message_type") != "status":
            return
        done = int(message.get("bytes_done") or 0)
        elapsed = max(time.monotonic() - started, 1e-3)
        remaining = message.get("seconds_remaining")
        on_progress(
            ResticProgress(
                float(message.get("percent_done") or 0.0),
                done,
                int(message.get("total_bytes") or 0),
                done / elapsed,
                float(remaining) if remaining is not None else None,
            )
        )

    return sink


def _json(line: str) -> dict[str, Any] | None:
    if not line.startswith(("{", "[")):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if isinstance(value, list):
        return {"items": value}
    return value if isinstance(value, dict) else None


def _last_words(result: ResticResult) -> str:
    """restic's own words: its first two error lines and its last line (the Fatal one)."""
    errors = [m.get("error") or m.get("message") for m in result.messages if m.get("message_type") == "error"]
    lines = [str(e) for e in errors if e] + [line.strip() for line in result.text if line.strip()]
    telling = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()] or lines
    chosen = [*telling[:2], *telling[-1:]] if len(telling) > 3 else telling
    return "; ".join(dict.fromkeys(chosen)) or "no output"


def _failure(what: str, result: ResticResult) -> str:
    return f"restic {what} failed (exit {result.returncode}): {_last_words(result)}"
