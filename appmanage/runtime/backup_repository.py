"""Where backups go: the restic repository of the settings and its password file.

APPMANAGE_BACKUP_REPOSITORY names any restic backend (default `<data>/backups/restic`).
The password is APPMANAGE_BACKUP_PASSWORD, written to a private file restic reads
(`RESTIC_PASSWORD_FILE`); without it one is generated once into `<data>/backup-password`
(mode 0600) and a WARNING asks the operator to keep a copy elsewhere: without it the
backups cannot be read.
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from appmanage.config import Settings
from appmanage.runtime.restic import Restic

log = logging.getLogger(__name__)

GENERATED_PASSWORD = "backup-password"
GIVEN_PASSWORD = "backups/.password"  # APPMANAGE_BACKUP_PASSWORD, as a file restic reads


def repository_location(settings: Settings) -> str:
    return settings.backup_repository or str(settings.backups_dir / "restic")


def open_repository(settings: Settings) -> Restic:
    return Restic(
        repository_location(settings),
        password_file(settings),
        settings.backups_dir / "cache",
        timeout=settings.backup_timeout,
    )


def password_file(settings: Settings) -> Path:
    if settings.backup_password:
        path = settings.data_dir / GIVEN_PASSWORD
        if not path.exists() or path.read_text() != settings.backup_password:
            _write_private(path, settings.backup_password)
        return path
    path = settings.data_dir / GENERATED_PASSWORD
    if not path.exists() and _write_private(path, secrets.token_urlsafe(32), replace=False):
        log.warning(
            "generated the password of the backup repository into %s: keep a copy of it elsewhere, "
            "the backups cannot be read without it (or set APPMANAGE_BACKUP_PASSWORD)",
            path,
        )
    return path


def _write_private(path: Path, text: str, replace: bool = True) -> bool:
    """Written whole or not at all; without `replace`, False when another process was first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    if replace:
        os.replace(temporary, path)
        return True
    try:
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink()
    return True
