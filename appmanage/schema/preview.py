from __future__ import annotations

from typing import Annotated

import strawberry

from appmanage.apps.submission import InstallPlan
from appmanage.errors import AppManageError
from appmanage.resolvers import preview
from appmanage.schema.apps import Setting
from appmanage.schema.context import Info
from appmanage.schema.errors import ConflictError, NotFoundError, ServiceUnavailableError, ValidationError, error_type
from appmanage.schema.inputs import InstallAppInput, setting_pairs


@strawberry.type(description="An install as it would run: nothing was created.")
class InstallPreview:
    compose: str = strawberry.field(description="The project as `docker compose config` prints it, secrets masked.")
    settings: list[Setting]
    warnings: list[str] = strawberry.field(
        description="Each way the project reaches the host, as `<kind>: service <name> ...`; "
        "APPMANAGE_REFUSE lists the kinds refused (README: Host access review)."
    )

    @classmethod
    def from_plan(cls, plan: InstallPlan) -> InstallPreview:
        settings = []
        for key, value in sorted(plan.settings.items()):
            param = plan.catalog_app.parameter(key)
            secret = param.secret if param else True
            settings.append(Setting(key=key, value=None if secret else value, secret=secret))
        return cls(compose=plan.project.compose, settings=settings, warnings=[str(w) for w in plan.project.warnings])


@strawberry.type(description="A catalog template that cannot be read; it is left out of `catalog`.")
class CatalogProblem:
    source: str
    app: str
    message: str


PreviewInstallResult = Annotated[
    InstallPreview | ValidationError | NotFoundError | ConflictError | ServiceUnavailableError,
    strawberry.union("PreviewInstallResult"),
]


async def preview_install(info: Info, input: InstallAppInput) -> PreviewInstallResult:
    services, pairs = info.context.services, setting_pairs(input.settings)
    try:
        plan = await preview.preview_install(services, input.catalog_app, input.name, input.version, pairs)
    except AppManageError as exc:
        return error_type(exc)  # type: ignore[return-value]
    return InstallPreview.from_plan(plan)


def catalog_problems(info: Info) -> list[CatalogProblem]:
    return [
        CatalogProblem(source=p.source, app=p.app, message=p.message) for p in info.context.services.catalog.problems
    ]
