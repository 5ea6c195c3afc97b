"""What an operator should know before a rendered project runs: every way it reaches the host.

Read from the project as `docker compose config` prints it (paths absolute, variables
filled, short volume syntax turned long; the short syntax is read too), with symlinks
followed before a path is judged. Each warning has a kind (`warning_kinds.py`) and names
the service, which `APPMANAGE_REFUSE` may turn into a refusal. The template's own files
are reviewed apart (`template_warnings`): a link in them out of the template.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from appmanage.catalog.host_paths import DOCKER_SOCKETS, HostPaths
from appmanage.catalog.symlinks import outside_links
from appmanage.catalog.warning_kinds import ProjectWarning, WarningKind, refused

__all__ = ["DOCKER_SOCKETS", "ProjectWarning", "WarningKind", "project_warnings", "refused", "template_warnings"]

UNCONFINED = frozenset({"seccomp:unconfined", "apparmor:unconfined", "label:disable", "systempaths:unconfined"})
HOST_MODES = (
    ("network_mode", WarningKind.HOST_NETWORK, "uses the host's network"),
    ("pid", WarningKind.HOST_PID, "sees the host's processes"),
    ("ipc", WarningKind.HOST_IPC, "shares the host's IPC namespace"),
    ("userns_mode", WarningKind.HOST_USERNS, "runs in the host's user namespace"),
    ("uts", WarningKind.HOST_UTS, "uses the host's hostname namespace"),
    ("cgroup", WarningKind.HOST_CGROUP, "uses the host's cgroup namespace"),
)
REMOTE_CONTEXT = ("://", "git@", "docker-image:", "service:", "target:")

Project = Mapping[str, Any]


def project_warnings(project: Project, app_folder: Path) -> list[ProjectWarning]:
    services = project.get("services") or {}
    paths = HostPaths(app_folder)
    return [
        warning
        for name, service in sorted(services.items())
        if isinstance(service, dict)
        for warning in _service_warnings(name, service, project, paths)
    ]


def template_warnings(template_folder: Path, skip_files: Iterable[str] = ()) -> list[ProjectWarning]:
    """Links out of the template among the files rendering copies (`skip_files` are not copied)."""
    skipped = set(skip_files)
    return [
        ProjectWarning(WarningKind.TEMPLATE_SYMLINK, "", f"the template's file {path} links to {target}, outside it")
        for path, target in outside_links(template_folder)
        if path.split("/", 1)[0] not in skipped
    ]


def _service_warnings(name: str, service: Project, project: Project, paths: HostPaths) -> Iterator[ProjectWarning]:
    def warn(kind: WarningKind, detail: str) -> ProjectWarning:
        return ProjectWarning(kind, name, detail)

    build = _build(service.get("build"))
    if service.get("privileged"):
        yield warn(WarningKind.PRIVILEGED, "runs privileged")
    if build.get("privileged"):
        yield warn(WarningKind.PRIVILEGED, "is built privileged")
    if capabilities := _strings(service.get("cap_add")):
        yield warn(WarningKind.CAPABILITIES, f"adds the capabilities {', '.join(capabilities)}")
    yield from (warn(WarningKind.DEVICES, detail) for detail in _device_access(service))
    unconfined = [o for o in _strings(service.get("security_opt")) if o.replace("=", ":").lower() in UNCONFINED]
    if unconfined:
        yield warn(WarningKind.SECURITY_OPT, f"turns confinement off: {', '.join(unconfined)}")
    for key, kind, detail in HOST_MODES:
        if service.get(key) == "host":
            yield warn(kind, detail)
    for key in ("network_mode", "pid", "ipc"):
        if str(service.get(key) or "").startswith("container:"):
            yield warn(WarningKind.CONTAINER_NAMESPACE, f"joins the {key} namespace of {service[key]}")
    for other in _strings(service.get("volumes_from")):
        if other.startswith("container:"):
            yield warn(WarningKind.CONTAINER_NAMESPACE, f"mounts the volumes of {other}")
    for volume in service.get("volumes") or ():
        yield from (warn(kind, detail) for kind, detail in _mount(volume, project, paths))
    for kind, section, references in (
        (
            WarningKind.HOST_SECRET,
            "secrets",
            [*_references(service.get("secrets")), *_references(build.get("secrets"))],
        ),
        (WarningKind.HOST_CONFIG, "configs", _references(service.get("configs"))),
    ):
        for reference in references:
            source = _host_file(project, section, reference, paths)
            if source is not None:
                yield warn(kind, f"reads {section[:-1]} {reference} from the host file {paths.describe(source)}")
    for context in _build_contexts(build):
        if not paths.inside(context):
            yield warn(WarningKind.BUILD_CONTEXT, f"is built from {paths.describe(context)}, outside the app folder")
    image = service.get("image")
    if image and not service.get("build") and not _tagged(str(image)):
        yield warn(WarningKind.UNTAGGED_IMAGE, f"runs image {image} without a tag")


def _device_access(service: Project) -> Iterator[str]:
    devices = [
        str(d.get("source")) if isinstance(d, dict) else str(d).split(":")[0] for d in service.get("devices") or ()
    ]
    if devices:
        yield f"uses the host devices {', '.join(devices)}"
    if rules := _strings(service.get("device_cgroup_rules")):
        yield f"may use host devices by the cgroup rules {', '.join(rules)}"
    reservations = (((service.get("deploy") or {}).get("resources") or {}).get("reservations") or {}).get("devices")
    if service.get("gpus") or reservations:
        yield "reserves host devices (GPUs)"


def _mount(volume: Any, project: Project, paths: HostPaths) -> Iterator[tuple[WarningKind, str]]:
    kind, source = _mount_source(volume)
    if kind == "bind":
        if paths.is_socket(source):
            yield WarningKind.DOCKER_SOCKET, f"mounts the Docker socket {source}"
        else:
            yield from _host_path(source, paths, paths.describe(source), WarningKind.BIND_MOUNT)
    elif kind == "volume" and source:
        definition = (project.get("volumes") or {}).get(source) or {}
        device = _bound_device(definition)
        if device is not None:
            what = f"the volume {source}, which binds {paths.describe(device)}"
            yield from _host_path(device, paths, what, WarningKind.HOST_VOLUME)
        elif definition.get("driver") not in (None, "local"):
            yield WarningKind.HOST_VOLUME, f"mounts the volume {source} of the driver {definition['driver']}"


def _host_path(source: str, paths: HostPaths, what: str, outside: WarningKind) -> Iterator[tuple[WarningKind, str]]:
    socket = paths.exposed_socket(source)
    if socket == source:
        yield WarningKind.DOCKER_SOCKET, f"mounts {what}: the Docker socket"
    elif socket is not None:
        yield WarningKind.DOCKER_SOCKET, f"mounts {what}, which holds the Docker socket {socket}"
    if not paths.inside(source):
        yield outside, f"mounts {what} from outside the app folder"


def _mount_source(volume: Any) -> tuple[str, str]:
    """(type, source) of a long-syntax mapping or a short-syntax string."""
    if isinstance(volume, dict):
        return str(volume.get("type") or ""), str(volume.get("source") or "")
    source, _, target = str(volume).partition(":")
    if not target:
        return "volume", ""
    return ("bind" if source.startswith(("/", ".", "~")) else "volume"), source


def _bound_device(definition: Mapping[str, Any]) -> str | None:
    """The host path a local volume binds (`driver_opts: {type: none, o: bind, device: /}`)."""
    options = definition.get("driver_opts") or {}
    if definition.get("driver") not in (None, "local") or not options.get("device"):
        return None
    flags = {f.strip() for f in str(options.get("o") or "").split(",")}
    binds = bool(flags & {"bind", "rbind"}) or str(options.get("type") or "none") == "none"
    return str(options["device"]) if binds else None


def _host_file(project: Project, section: str, reference: str, paths: HostPaths) -> str | None:
    definition = (project.get(section) or {}).get(reference) or {}
    source = definition.get("file") if isinstance(definition, dict) else None
    return str(source) if source and not paths.inside(str(source)) else None


def _references(entries: Any) -> list[str]:
    return [str(e.get("source")) if isinstance(e, dict) else str(e) for e in entries or ()]


def _build(build: Any) -> Mapping[str, Any]:
    if isinstance(build, dict):
        return build
    return {"context": build} if build else {}


def _build_contexts(build: Mapping[str, Any]) -> list[str]:
    contexts = [build.get("context"), *(build.get("additional_contexts") or {}).values()]
    return [str(c) for c in contexts if c and not any(marker in str(c) for marker in REMOTE_CONTEXT)]


def _strings(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)] if value else []


def _tagged(image: str) -> bool:
    if "@" in image:
        return True
    return ":" in image.rsplit("/", 1)[-1]
