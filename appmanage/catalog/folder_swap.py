"""Replace an app folder by a freshly rendered one in one step, keeping the app's own data.

The new folder is written beside the target (same filesystem), marked unfinished, then
swapped in: with Linux's `renameat2(RENAME_EXCHANGE)` where the filesystem has it, else
two renames, the previous folder kept until the new one is in place. A crash leaves the
old folder or the new one at the target, never a mix; the next render cleans up
(`recover`): an unfinished `.<name>.render-*` folder is removed, a previous folder is put
back when the target is missing, else its data is carried over as below.

What the app itself wrote into its folder is carried over: every file the previous render
did not write (its list is the manifest `.appmanage-rendered`) moves into the new folder,
unless the new render writes the same path. Templates that bind-mount `./data` keep it;
files that only an older version of the template had are gone. A folder rendered before
manifests existed has all its files counted as the app's data, except those the new
render writes.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import secrets
import shutil
from collections.abc import Iterable
from pathlib import Path

MANIFEST = ".appmanage-rendered"
UNFINISHED = ".appmanage-unfinished"
AT_FDCWD = -100
RENAME_EXCHANGE = 2


def scratch_folder(target: Path) -> Path:
    """A new, empty folder beside `target` to render into, after what a crash left is
    cleaned up. It is marked unfinished until `swap_in` takes it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    scratch = target.parent / f".{target.name}.render-{secrets.token_hex(4)}"
    scratch.mkdir(mode=0o755)
    (scratch / UNFINISHED).touch()
    return scratch


def write_manifest(folder: Path) -> None:
    """Every path under `folder` (folders end with `/`), the manifest itself included."""
    entries = {MANIFEST}
    for current, directories, files in os.walk(folder):
        base = Path(current).relative_to(folder)
        entries.update(f"{(base / d).as_posix()}/" for d in directories)
        entries.update((base / f).as_posix() for f in files if f != UNFINISHED)
    (folder / MANIFEST).write_text("".join(f"{entry}\n" for entry in sorted(entries)))


def swap_in(scratch: Path, target: Path) -> None:
    """Make the rendered `scratch` the folder at `target`; the previous folder's data
    moves over, then the previous folder is removed."""
    (scratch / UNFINISHED).unlink()
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        target.unlink()
    if not target.exists():
        scratch.rename(target)
    elif _exchange(scratch, target):
        _retire(scratch, target)
    else:
        previous = target.parent / f".{target.name}.previous-{secrets.token_hex(4)}"
        target.rename(previous)
        try:
            scratch.rename(target)
        except OSError:
            previous.rename(target)
            raise
        _retire(previous, target)


def recover(target: Path) -> None:
    """After a crash: an unfinished render is dropped; a previous folder is put back when
    the target is missing, else its data moves into the target and it is removed."""
    leftovers = sorted(target.parent.glob(f".{target.name}.render-*"))
    leftovers += sorted(target.parent.glob(f".{target.name}.previous-*"))
    for leftover in leftovers:
        if (leftover / UNFINISHED).exists():
            shutil.rmtree(leftover, ignore_errors=True)
        elif not target.exists():
            leftover.rename(target)
        else:
            _retire(leftover, target)


def remove_folder(target: Path) -> None:
    """The app folder gone, with whatever a crashed render left beside it."""
    if target.exists():
        shutil.rmtree(target)
    for pattern in (f".{target.name}.render-*", f".{target.name}.previous-*"):
        for leftover in target.parent.glob(pattern):
            shutil.rmtree(leftover, ignore_errors=True)


def _retire(previous: Path, target: Path) -> None:
    _carry_over(previous, target, _rendered_before(previous), Path())
    shutil.rmtree(previous, ignore_errors=True)


def _rendered_before(folder: Path) -> frozenset[str]:
    try:
        return frozenset((folder / MANIFEST).read_text().splitlines())
    except OSError:
        return frozenset()


def _carry_over(old: Path, new: Path, rendered: frozenset[str], relative: Path) -> None:
    """Move what the app wrote under `old` to the same place under `new`."""
    for entry in _entries(old):
        path = (relative / entry.name).as_posix()
        counterpart = new / entry.name
        if entry.is_dir() and not entry.is_symlink():
            if f"{path}/" not in rendered and not os.path.lexists(counterpart):
                entry.rename(counterpart)
            elif counterpart.is_dir() and not counterpart.is_symlink():
                _carry_over(entry, counterpart, rendered, relative / entry.name)
            elif not os.path.lexists(counterpart):
                counterpart.mkdir()
                shutil.copystat(entry, counterpart)
                _carry_over(entry, counterpart, rendered, relative / entry.name)
                with contextlib.suppress(OSError):
                    counterpart.rmdir()  # only when nothing of the app's was in it
        elif path not in rendered and not os.path.lexists(counterpart):
            entry.rename(counterpart)


def _entries(folder: Path) -> Iterable[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def _exchange(first: Path, second: Path) -> bool:
    """Swap two paths atomically; False where the system or filesystem cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    done = renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second), RENAME_EXCHANGE)
    if done == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(error, os.strerror(error), str(second))
