"""The types of previewInstall's answer and of the catalog's unreadable templates."""

from __future__ import annotations

from typing import Annotated

import strawberry

from appmanage.apps.custom import CustomPlan
from appmanage.apps.plan import InstallPlan
from appmanage.catalog import model
from appmanage.catalog.secrets import is_secret, looks_secret
from appmanage.schema.apps import Setting
from appmanage.schema.errors import ConflictError, NotFoundError, ServiceUnavailableError, ValidationError


@strawberry.type(description="An install as it would run: nothing was created.")
class InstallPreview:
    compose: str = strawberry.field(description="The project as `docker compose config` prints it, secrets masked.")
    settings: list[Setting]
    warnings: list[str] = strawberry.field(
        description="Each way the project reaches the host, as `<kind>: service <name> ...`; "
        "APPMANAGE_REFUSE lists the kinds refused (README: Host access review)."
    )
    host: str = strawberry.field(description="The Docker host installApp would use: the one asked for, or placement's.")

    @classmethod
    def from_plan(cls, plan: InstallPlan | CustomPlan) -> InstallPreview:
        """A custom app's settings are its `.env` variables, secret-looking values masked."""
        if isinstance(plan, CustomPlan):
            env = sorted(plan.files.env_values().items())
            settings = [Setting.of(key, value, looks_secret(key)) for key, value in env]
            return cls(
                compose=plan.project.compose,
                settings=settings,
                warnings=[str(w) for w in plan.project.warnings],
                host=plan.host,
            )
        settings = [
            Setting.of(key, value, is_secret(plan.catalog_app, key)) for key, value in sorted(plan.settings.items())
        ]
        warnings = [str(w) for w in plan.project.warnings]
        return cls(compose=plan.project.compose, settings=settings, warnings=warnings, host=plan.host)


@strawberry.type(description="A catalog template that cannot be read; it is left out of `catalog`.")
class CatalogProblem:
    source: str
    app: str
    message: str

    @classmethod
    def from_model(cls, problem: model.CatalogProblem) -> CatalogProblem:
        return cls(source=problem.source, app=problem.app, message=problem.message)


PreviewInstallResult = Annotated[
    InstallPreview | ValidationError | NotFoundError | ConflictError | ServiceUnavailableError,
    strawberry.union("PreviewInstallResult"),
]
