from __future__ import annotations

import strawberry

from appmanage.catalog import model
from appmanage.schema.enums import ParameterType


@strawberry.type
class Parameter:
    key: str
    label: str | None
    type: ParameterType
    required: bool
    default: str | None
    choices: list[str] | None
    secret: bool
    editable: bool
    pattern: str | None
    min: int | None
    max: int | None

    @classmethod
    def from_model(cls, param: model.Parameter) -> Parameter:
        return cls(
            key=param.key,
            label=param.label,
            type=param.type,
            required=param.required,
            default=None if param.secret and not param.default else param.default,
            choices=list(param.choices) if param.choices else None,
            secret=param.secret,
            editable=param.editable,
            pattern=param.pattern,
            min=param.minimum,
            max=param.maximum,
        )


@strawberry.type
class CatalogApp:
    name: str
    title: str
    description: str | None
    versions: list[str]
    default_version: str
    parameters: list[Parameter]
    source: str

    @classmethod
    def from_model(cls, app: model.CatalogApp) -> CatalogApp:
        return cls(
            name=app.name,
            title=app.title,
            description=app.description,
            versions=list(app.versions),
            default_version=app.default_version,
            parameters=[Parameter.from_model(p) for p in app.parameters],
            source=app.source,
        )
