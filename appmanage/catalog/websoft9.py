"""The Websoft9 docker-library format, read as it is published.

An app folder holds `docker-compose.yml`, a `.env` of `W9_*` variables, `variables.json`
(`trademark`, `edition[].dist` and `.version`, `requirements`) and the `src/` files the
compose file mounts. The `.env` is rendered line by line: the variables below are set per
install, every other line is kept as it is.

| variable | becomes |
|---|---|
| W9_ID | the app's name |
| W9_VERSION, W9_DIST | the chosen version and its edition |
| W9_*_PORT_SET | an editable PORT parameter, the template's value as default |
| other W9_*_SET | an editable STRING parameter |
| W9_*PASSWORD*, W9_RCODE, W9_*SECRET*, W9_*TOKEN* | a secret generated per install (unless it refers to another) |
| W9_URL | an editable STRING parameter, by default host:port of W9_HTTP_PORT_SET |
| W9_NETWORK | the external network the app joins, created when missing |

A W9_URL left to its default follows W9_HTTP_PORT_SET when a redeploy changes the port;
one the operator set is kept (`params.resolve_settings`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from appmanage.catalog.dotenv import parse_env
from appmanage.catalog.model import CatalogApp, Parameter, Requirements
from appmanage.catalog.native import COMPOSE_NAMES, TemplateError
from appmanage.enums import ParameterType

VARIABLES = "variables.json"
ENV = ".env"
NAME_KEY = "W9_ID"
VERSION_KEY = "W9_VERSION"
DIST_KEY = "W9_DIST"
NETWORK_KEY = "W9_NETWORK"
URL_KEY = "W9_URL"
HTTP_PORT_KEY = "W9_HTTP_PORT_SET"
SECRET_KEY = re.compile(r"W9_(\w*PASSWORD\w*|RCODE|\w*SECRET\w*|\w*TOKEN\w*)")
NETWORK_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
ACRONYMS = {"http": "HTTP", "url": "URL", "db": "DB", "api": "API", "ssh": "SSH", "mq": "MQ", "id": "ID"}


def is_websoft9_app(folder: Path) -> bool:
    return (folder / VARIABLES).is_file()


def is_websoft9_library(root: Path) -> bool:
    """A checkout of the library (its `apps/` folder) or a folder of its app folders."""
    return (root / "apps").is_dir() or any(is_websoft9_app(p) for p in root.iterdir() if p.is_dir())


def app_folders(root: Path) -> list[Path]:
    base = root / "apps" if (root / "apps").is_dir() else root
    return sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))


def load_websoft9_app(folder: Path, source: str) -> CatalogApp:
    variables = _read_variables(folder)
    env = _read_env(folder)
    compose = next((n for n in COMPOSE_NAMES if (folder / n).is_file()), None)
    if compose is None:
        raise TemplateError("no docker-compose.yml")
    _check_compose(folder, compose)
    version_env = _versions(variables, env)
    if not version_env:
        raise TemplateError(f"no versions: {VARIABLES} lists no edition[].version and {ENV} no {VERSION_KEY}")
    versions = tuple(version_env)
    chosen = env.get(VERSION_KEY)
    default_version = chosen if chosen in version_env else versions[0]
    return CatalogApp(
        name=folder.name,
        title=str(variables.get("trademark") or variables.get("name") or folder.name),
        description=variables.get("description") if isinstance(variables.get("description"), str) else None,
        versions=versions,
        default_version=default_version,
        parameters=_parameters(env),
        source=source,
        folder=folder,
        compose_file=compose,
        env_template=ENV,
        requirements=_requirements(variables.get("requirements")),
        name_keys=(NAME_KEY,),
        version_env=version_env,
        network_keys=(NETWORK_KEY,) if NETWORK_KEY in env else (),
    )


def _read_variables(folder: Path) -> dict[str, Any]:
    try:
        variables = json.loads((folder / VARIABLES).read_text())
    except OSError as exc:
        raise TemplateError(f"{VARIABLES} cannot be read: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise TemplateError(f"{VARIABLES} is not JSON: {exc}") from exc
    if not isinstance(variables, dict):
        raise TemplateError(f"{VARIABLES} is not an object")
    return variables


def _read_env(folder: Path) -> dict[str, str]:
    try:
        return parse_env((folder / ENV).read_text())
    except OSError as exc:
        raise TemplateError(f"{ENV} cannot be read: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise TemplateError(f"{ENV} is not text: {exc}") from exc


def _check_compose(folder: Path, compose: str) -> None:
    """What `docker compose config` refuses before it looks at values."""
    try:
        document = yaml.safe_load((folder / compose).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{compose} cannot be read: {exc}") from exc
    if not isinstance(document, dict):
        raise TemplateError(f"{compose} is not a mapping")
    services = document.get("services")
    if not isinstance(services, dict) or not services:
        raise TemplateError(f"{compose}: services must be a mapping")
    for name, service in services.items():
        if not isinstance(service, dict):
            raise TemplateError(f"{compose}: service {name} is not a mapping")
        for env_file in _env_files(service.get("env_file")):
            if not (folder / env_file).is_file():
                raise TemplateError(f"{compose}: service {name} needs the missing env_file {env_file}")


def _env_files(value: Any) -> list[str]:
    entries = value if isinstance(value, list) else [value] if value else []
    files = []
    for entry in entries:
        if isinstance(entry, dict):
            if entry.get("required", True) is not False and entry.get("path"):
                files.append(str(entry["path"]))
        else:
            files.append(str(entry))
    return [f for f in files if "$" not in f]


def _versions(variables: dict[str, Any], env: dict[str, str]) -> dict[str, dict[str, str]]:
    """Each version label and the variables it sets; a version of a later edition that an
    earlier one also lists is labelled `<dist>-<version>`."""
    labels: dict[str, dict[str, str]] = {}
    editions = variables.get("edition")
    for edition in editions if isinstance(editions, list) else ():
        if not isinstance(edition, dict):
            continue
        dist = str(edition.get("dist") or env.get(DIST_KEY) or "")
        listed = edition.get("version")
        for version in listed if isinstance(listed, list) else [listed] if listed else ():
            label = str(version) if str(version) not in labels else f"{dist}-{version}"
            labels.setdefault(label, {VERSION_KEY: str(version), **({DIST_KEY: dist} if dist else {})})
    if not labels and env.get(VERSION_KEY):
        version = env[VERSION_KEY]
        labels[version] = {VERSION_KEY: version, **({DIST_KEY: env[DIST_KEY]} if env.get(DIST_KEY) else {})}
    return labels


def _parameters(env: dict[str, str]) -> tuple[Parameter, ...]:
    parameters = [p for key, value in env.items() if (p := _parameter(key, value, env)) is not None]
    return tuple(parameters)


def _parameter(key: str, value: str, env: dict[str, str]) -> Parameter | None:
    label = _label(key)
    if key.endswith("_PORT_SET"):
        port = value if value.isdigit() else None
        return Parameter(key, ParameterType.PORT, label, required=True, default=port, editable=True)
    if key.endswith("_SET"):
        return Parameter(key, ParameterType.STRING, label, default=value, editable=True)
    if SECRET_KEY.fullmatch(key) and "$" not in value:
        return Parameter(key, ParameterType.PASSWORD, label, required=True, secret=True)
    if key == URL_KEY:
        with_port = HTTP_PORT_KEY in env and env.get("W9_URL_WITH_PORT", "true").lower() != "false"
        derived = f"{{host}}:{{{HTTP_PORT_KEY}}}" if with_port else "{host}"
        return Parameter(key, ParameterType.STRING, label, default_from=derived, editable=True)
    if key == NETWORK_KEY:
        return Parameter(key, ParameterType.STRING, label, required=True, default=value, pattern=NETWORK_NAME)
    return None


def _label(key: str) -> str:
    words = [ACRONYMS.get(w, w) for w in key.removeprefix("W9_").removesuffix("_SET").lower().split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _requirements(raw: Any) -> Requirements:
    if not isinstance(raw, dict):
        return Requirements()
    return Requirements(cpu=_number(raw.get("cpu")), memory=_number(raw.get("memory")), disk=_number(raw.get("disk")))


def _number(value: Any) -> float | None:
    try:
        number = float(str(value).strip().upper().removesuffix("GB").removesuffix("G"))
    except ValueError:
        return None
    return number if number > 0 else None
