"""Benchmark: restic backup and restore of a 200 MB Docker volume against plain tar.

What is measured
    A local Docker volume is filled with --size-mb MB in 1 MB files: half random (what
    compresses not at all), half repetitive text (what compresses well). Then, with the
    `Restic` class AppManage's jobs use (`runtime/restic.py`) on a fresh local repository
    in a temp folder, against the volume's Mountpoint:

    * backup         -- the first `restic backup` of the folder (everything new);
    * restore        -- `restic restore` of that snapshot into an empty folder (every blob
                        read and its MAC checked, as a restore job's staging does);
    * tar -cf / -xf  -- a plain uncompressed tar of the same folder, and its extraction;
    * second backup  -- `restic backup` again after 1 MB of the folder changed (one file
                        rewritten with new random bytes): what deduplication saves.

    Page cache: each step reads what the one before wrote or read, so all run warm; the
    figures compare the tools, not the disk. It ends with one line:
    `backup 200 MB: restic X s (restore Y s), tar Z s (extract W s); second backup after 1 MB V s`.

How to run
    .venv/bin/python -m bench.backup [--size-mb 200]

Everything it creates (the volume bench-<random>, a temp folder with the repository,
the restored copy and the tar file) is removed at the end, also on error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

from appmanage.runtime.restic import Restic

MB = 1024 * 1024
TEXT = b"AppManage backs this volume up with restic; these words repeat, so they compress well.\n"


def fill(folder: Path, size_mb: int) -> None:
    for index in range(size_mb):
        data = os.urandom(MB) if index % 2 == 0 else (TEXT * (MB // len(TEXT) + 1))[:MB]
        (folder / f"file-{index:04d}.bin").write_bytes(data)


def timed(what: str, action: object) -> float:
    started = time.perf_counter()
    assert callable(action)
    action()
    seconds = time.perf_counter() - started
    print(f"{what}: {seconds:.2f} s", flush=True)
    return seconds


def run(args: argparse.Namespace) -> str:
    engine = docker.from_env()
    name = f"bench-{secrets.token_hex(3)}"
    root = Path(tempfile.mkdtemp(prefix="appmanage-bench-backup-"))
    volume = engine.volumes.create(name)
    try:
        source = Path(volume.attrs["Mountpoint"])
        fill(source, args.size_mb)
        password = root / "password"
        password.write_text(secrets.token_urlsafe(24))
        restic = Restic(str(root / "repo"), password, root / "cache")
        restic.ensure_repository()
        tags = {"app": name}
        first = timed("restic backup", lambda: restic.backup([source], tags, "bench"))
        snapshot = restic.snapshots("--tag", f"app={name}")[0].id
        restore = timed("restic restore", lambda: restic.restore(snapshot, root / "restored"))
        tarball = root / "copy.tar"
        tar = timed("tar -cf", lambda: subprocess.run(["tar", "-cf", str(tarball), "-C", str(source), "."], check=True))
        (root / "untarred").mkdir()
        untar = timed(
            "tar -xf", lambda: subprocess.run(["tar", "-xf", str(tarball), "-C", str(root / "untarred")], check=True)
        )
        (source / "file-0000.bin").write_bytes(os.urandom(MB))
        second = timed("second restic backup after 1 MB changed", lambda: restic.backup([source], tags, "bench"))
        repository_mb = sum(f.stat().st_size for f in (root / "repo").rglob("*") if f.is_file()) / MB
        print(f"repository: {repository_mb:.0f} MB for {args.size_mb} MB read twice", flush=True)
    finally:
        volume.remove(force=True)
        engine.close()
        shutil.rmtree(root, ignore_errors=True)
    return (
        f"backup {args.size_mb} MB: restic {first:.2f} s (restore {restore:.2f} s), "
        f"tar {tar:.2f} s (extract {untar:.2f} s); second backup after 1 MB {second:.2f} s"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=200)
    print(run(parser.parse_args()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
