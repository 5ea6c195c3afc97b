"""What a catalog offers: apps with versions and typed parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from appmanage.enums import ParameterType


@dataclass(frozen=True)
class Parameter:
    key: str
    type: ParameterType = ParameterType.STRING
    label: str | None = None
    required: bool = False
    default: str | None = None
    choices: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: int | None = None
    maximum: int | None = None
    secret: bool = False
    editable: bool = False
    default_from: str | None = None
    """A default made of other settings when none is given: `{KEY}` is that setting's value,
    `{host}` the host's public name."""


@dataclass(frozen=True)
class Requirements:
    """What the host must offer: CPU cores, memory and free disk in GB."""

    cpu: float | None = None
    memory: float | None = None
    disk: float | None = None


@dataclass(frozen=True)
class CatalogApp:
    name: str
    title: str
    versions: tuple[str, ...]
    default_version: str
    parameters: tuple[Parameter, ...]
    source: str
    folder: Path
    compose_file: str
    description: str | None = None
    env_template: str | None = None
    skip_files: frozenset[str] = field(default_factory=frozenset)
    requirements: Requirements = field(default_factory=Requirements)
    name_keys: tuple[str, ...] = ()
    """Variables that hold the app's name."""
    version_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Variables set by the chosen version."""
    network_keys: tuple[str, ...] = ()
    """Settings that name external networks, created when missing."""

    def parameter(self, key: str) -> Parameter | None:
        return next((p for p in self.parameters if p.key == key), None)

    @property
    def port_keys(self) -> tuple[str, ...]:
        return tuple(p.key for p in self.parameters if p.type is ParameterType.PORT)


@dataclass(frozen=True)
class CatalogProblem:
    source: str
    app: str
    message: str
