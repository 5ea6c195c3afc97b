"""A container's resource counters, read straight from its cgroup files and /proc.

Where a container's cgroup lives is found once from its main process (`/proc/<pid>/cgroup`
names the path per controller, whatever the driver or the daemon's `--cgroup-parent`),
else from the usual places (`docker/<id>`, `system.slice/docker-<id>.scope`), on cgroup v1
(one hierarchy per controller) or v2 (one unified hierarchy). Reading a container is then
a handful of small files, kept open and read again each pass: CPU time, memory, pids,
block I/O, and the network bytes of its main process's namespace (`/proc/<pid>/net/dev`).
Any file that cannot be read makes the whole reading None: the caller asks Docker instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC = Path("/proc")
V1_CONTROLLERS = ("cpuacct", "memory", "pids", "blkio")
READ_SIZE = 65536
UNLIMITED = 1 << 62  # v1 writes "no limit" as a huge page-aligned number, v2 as "max"


@dataclass(frozen=True)
class Counters:
    """One reading of one container: cumulative counters and current levels."""

    cpu_ns: int  # CPU time used since the container started
    memory_usage: int  # bytes charged, page cache included
    memory_inactive_file: int  # the reclaimable part of it (docker stats leaves it out)
    memory_limit: int  # bytes; UNLIMITED or more when none
    pids: int
    block_read: int
    block_write: int
    net_rx: int
    net_tx: int


@dataclass(frozen=True)
class CgroupPaths:
    """The files of one container, as plain strings (joined once, read every pass)."""

    version: int
    cpu: str  # v1 cpuacct.usage (ns); v2 cpu.stat (usage_usec)
    memory_usage: str
    memory_stat: str
    memory_limit: str
    pids: str
    io: str  # v1 blkio.throttle.io_service_bytes_recursive; v2 io.stat
    net: str  # /proc/<main pid>/net/dev

    @property
    def parent(self) -> str:
        """The folder holding this container's cgroup and its siblings' (e.g. `.../docker`)."""
        return os.path.dirname(os.path.dirname(self.cpu))

    @classmethod
    def v1(cls, cpuacct: Path, memory: Path, pids: Path, blkio: Path, pid: int) -> CgroupPaths:
        return cls(
            1,
            str(cpuacct / "cpuacct.usage"),
            str(memory / "memory.usage_in_bytes"),
            str(memory / "memory.stat"),
            str(memory / "memory.limit_in_bytes"),
            str(pids / "pids.current"),
            str(blkio / "blkio.throttle.io_service_bytes_recursive"),
            f"{PROC}/{pid}/net/dev",
        )

    @classmethod
    def v2(cls, folder: Path, pid: int) -> CgroupPaths:
        return cls(
            2,
            str(folder / "cpu.stat"),
            str(folder / "memory.current"),
            str(folder / "memory.stat"),
            str(folder / "memory.max"),
            str(folder / "pids.current"),
            str(folder / "io.stat"),
            f"{PROC}/{pid}/net/dev",
        )


def cgroup_version(root: Path = CGROUP_ROOT) -> int:
    return 2 if (root / "cgroup.controllers").exists() else 1


def locate(container_id: str, pid: int, root: Path = CGROUP_ROOT) -> CgroupPaths | None:
    """The container's cgroup folders, or None when they are not where this process can read."""
    version = cgroup_version(root)
    declared = {c: path for c, path in _declared(pid).items() if container_id in path}  # its own, not a parent
    if version == 2:
        candidates = [declared.get("")] if "" in declared else []
        candidates += [f"/system.slice/docker-{container_id}.scope", f"/docker/{container_id}"]
        for relative in candidates:
            if relative is not None and (folder := root / relative.lstrip("/")).is_dir():
                return CgroupPaths.v2(folder, pid)
        return None
    folders: dict[str, Path] = {}
    for controller in V1_CONTROLLERS:
        mount = _v1_mount(root, controller)
        guesses = [declared.get(controller), f"/docker/{container_id}", f"/system.slice/docker-{container_id}.scope"]
        found = next(
            (mount / g.lstrip("/") for g in guesses if g is not None and (mount / g.lstrip("/")).is_dir()), None
        )
        if found is None:
            return None
        folders[controller] = found
    return CgroupPaths.v1(folders["cpuacct"], folders["memory"], folders["pids"], folders["blkio"], pid)


def _v1_mount(root: Path, controller: str) -> Path:
    """`cpuacct` is often co-mounted as `cpu,cpuacct` (with a symlink that may be missing)."""
    plain = root / controller
    if plain.is_dir():
        return plain
    for entry in root.iterdir() if root.is_dir() else ():
        if controller in entry.name.split(","):
            return entry
    return plain


def _declared(pid: int) -> dict[str, str]:
    """Controller → path from /proc/<pid>/cgroup ("" for v2's unified line)."""
    declared: dict[str, str] = {}
    try:
        text = (PROC / str(pid) / "cgroup").read_text()
    except OSError:
        return declared
    for line in text.splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            declared[controller.removeprefix("name=")] = path
    return declared


class CounterFiles:
    """A container's files kept open: each pass re-reads them with one `pread` at offset 0
    (cgroup and /proc files are generated anew on each read), six times cheaper than
    open, read and close. Without a descriptor to spare, a file is opened for each read."""

    def __init__(self, paths: CgroupPaths) -> None:
        self.paths = paths
        self._fds: dict[str, int] = {}

    def read(self) -> Counters | None:
        """The container's counters now; None when a file is gone or unreadable."""
        paths = self.paths
        try:
            net_rx, net_tx = network_bytes(self._read(paths.net))
            v2 = paths.version == 2
            cpu = self._read(paths.cpu)
            limit = self._read(paths.memory_limit).strip()
            block_read, block_write = (io_stat_bytes if v2 else blkio_bytes)(self._read(paths.io))
            inactive_file = _stat_field(self._read(paths.memory_stat), "inactive_file" if v2 else "total_inactive_file")
            return Counters(
                cpu_ns=_stat_field(cpu, "usage_usec") * 1000 if v2 else int(cpu),
                memory_usage=int(self._read(paths.memory_usage)),
                memory_inactive_file=inactive_file,
                memory_limit=UNLIMITED if limit == "max" else int(limit),
                pids=int(self._read(paths.pids)),
                block_read=block_read,
                block_write=block_write,
                net_rx=net_rx,
                net_tx=net_tx,
            )
        except (OSError, ValueError):
            return None

    def close(self) -> None:
        for fd in self._fds.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds.clear()

    def _read(self, path: str) -> str:
        fd = self._fds.get(path)
        if fd is None:
            try:
                fd = self._fds[path] = os.open(path, os.O_RDONLY)
            except OSError as exc:
                if exc.errno != errno.EMFILE:
                    raise
                return _read_once(path)
        return os.pread(fd, READ_SIZE, 0).decode("ascii", "replace")


def read_counters(paths: CgroupPaths) -> Counters | None:
    """The container's counters now, its files opened and closed again."""
    files = CounterFiles(paths)
    try:
        return files.read()
    finally:
        files.close()


def _read_once(path: str) -> str:
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, READ_SIZE).decode("ascii", "replace")
    finally:
        os.close(fd)


def _stat_field(text: str, key: str) -> int:
    """The value of `key` in `key value` lines (memory.stat, cpu.stat); 0 when absent."""
    start = 0 if text.startswith(key + " ") else text.find("\n" + key + " ") + 1
    if start == 0 and not text.startswith(key + " "):
        return 0
    end = text.find("\n", start)
    return int(text[start + len(key) + 1 : end if end >= 0 else None])


def network_bytes(text: str) -> tuple[int, int]:
    """Received and sent bytes of every interface but loopback, from a /proc/<pid>/net/dev."""
    rx = tx = 0
    for line in text.splitlines()[2:]:
        name, _, numbers = line.partition(":")
        if name.strip() == "lo":
            continue
        columns = numbers.split()
        if len(columns) >= 9:
            rx += int(columns[0])
            tx += int(columns[8])
    return rx, tx


def blkio_bytes(text: str) -> tuple[int, int]:
    """Read and written bytes from v1's `blkio.throttle.io_service_bytes_recursive`."""
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            if parts[1] == "Read":
                read += int(parts[2])
            elif parts[1] == "Write":
                write += int(parts[2])
    return read, write


def io_stat_bytes(text: str) -> tuple[int, int]:
    """Read and written bytes from v2's `io.stat` (`8:0 rbytes=.. wbytes=.. ...` per device)."""
    read = write = 0
    for line in text.splitlines():
        for item in line.split()[1:]:
            key, _, value = item.partition("=")
            if key == "rbytes":
                read += int(value)
            elif key == "wbytes":
                write += int(value)
    return read, write
