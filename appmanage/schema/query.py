"""Queries: each field calls its resolver (`resolvers/`) and shapes the answer."""

from __future__ import annotations

import strawberry

from appmanage.app_states import AppStates
from appmanage.errors import AppManageError, NotFound, ValidationFailed
from appmanage.resolvers import apps, catalog, health, hosts, jobs, preview
from appmanage.resolvers import tokens as api_tokens
from appmanage.resolvers.apps import MAX_PAGE
from appmanage.runtime.containers import MAX_LOG_LINES
from appmanage.schema.app_connection import AppConnection
from appmanage.schema.apps import App, LogLine
from appmanage.schema.catalog import CatalogApp
from appmanage.schema.context import Info
from appmanage.schema.enums import AppStatus, Role
from appmanage.schema.errors import (
    ConflictError,
    NotFoundError,
    ServiceUnavailableError,
    ValidationError,
    error_result,
    invalid,
    not_found,
)
from appmanage.schema.health import Health
from appmanage.schema.hosts import Host
from appmanage.schema.inputs import InstallAppInput
from appmanage.schema.jobs import Job
from appmanage.schema.permissions import CanAdminister, CanView
from appmanage.schema.preview import CatalogProblem, InstallPreview, PreviewInstallResult
from appmanage.schema.tokens import ApiToken


@strawberry.type(description="Who is asking: what the presented token allows.")
class Viewer:
    role: Role


@strawberry.type
class Query:
    @strawberry.field(
        permission_classes=[CanView], description="The caller's role, so a client shows only what it may do."
    )
    def viewer(self, info: Info) -> Viewer:
        role = info.context.role
        assert role is not None  # CanView let the call through
        return Viewer(role=role)

    @strawberry.field(permission_classes=[CanAdminister], description="Live API tokens (ADMIN).")
    async def tokens(self, info: Info) -> list[ApiToken]:
        return [ApiToken.from_row(t) for t in await api_tokens.list_tokens(info.context.services)]

    @strawberry.field(
        permission_classes=[CanView], description="Apps the catalogs offer, filtered by name, title or description."
    )
    def catalog(self, info: Info, search: str | None = None) -> list[CatalogApp]:
        return [CatalogApp.from_model(a) for a in catalog.catalog_apps(info.context.services, search)]

    @strawberry.field(permission_classes=[CanView])
    def catalog_app(self, info: Info, name: str) -> CatalogApp | None:
        found = catalog.catalog_app(info.context.services, name)
        return CatalogApp.from_model(found) if found else None

    @strawberry.field(
        permission_classes=[CanView], description="Templates the catalogs hold that cannot be read, with the reason."
    )
    def catalog_problems(self, info: Info) -> list[CatalogProblem]:
        return [CatalogProblem.from_model(p) for p in catalog.catalog_problems(info.context.services)]

    @strawberry.field(
        permission_classes=[CanView],
        description="Validate exactly like installApp and render the project; creates nothing.",
    )
    async def preview_install(self, info: Info, input: InstallAppInput) -> PreviewInstallResult:
        services = info.context.services
        try:
            plan = await preview.preview_install(services, input.request())
        except AppManageError as exc:
            return error_result(exc, ValidationError, NotFoundError, ConflictError, ServiceUnavailableError)
        return InstallPreview.from_plan(plan)

    @strawberry.field(
        permission_classes=[CanView], description="Installed apps with their computed status, from one Docker call."
    )
    async def apps(self, info: Info, status: AppStatus | None = None, host: str | None = None) -> list[App]:
        return await apps.app_views(_app_states(info), status, host)

    @strawberry.field(
        permission_classes=[CanView],
        description=f"Installed apps a page at a time, by name: `first` (1 to {MAX_PAGE}) after the "
        "cursor `after` (an `endCursor` or edge `cursor`), only those with `status` when given.",
    )
    async def apps_connection(
        self,
        info: Info,
        first: int | None = 50,
        after: str | None = None,
        status: AppStatus | None = None,
        host: str | None = None,
    ) -> AppConnection:
        try:
            page = await apps.app_page(_app_states(info), 50 if first is None else first, after, status, host)
        except ValidationFailed as exc:
            raise invalid(exc) from exc
        return AppConnection.from_page(page)

    @strawberry.field(permission_classes=[CanView])
    async def app(self, info: Info, name: str) -> App | None:
        snapshot = await apps.get_app(info.context.services, name)
        return App.shaped(info, snapshot) if snapshot else None

    @strawberry.field(permission_classes=[CanView])
    async def job(self, info: Info, id: strawberry.ID) -> Job | None:
        row = await jobs.get_job(info.context.services, str(id))
        return Job.from_row(row) if row else None

    @strawberry.field(
        permission_classes=[CanView],
        description=f"The containers' own log lines, oldest first, at most {MAX_LOG_LINES} a request; "
        "all services interleaved in time order when `service` is null. Only apps AppManage manages "
        "(a NOT_FOUND error for any other name).",
    )
    async def app_logs(
        self, info: Info, name: str, service: str | None = None, tail: int | None = 100
    ) -> list[LogLine]:
        try:
            entries = await apps.app_logs(info.context.services, name, service, 100 if tail is None else tail)
        except NotFound as exc:
            raise not_found(exc) from exc
        return [LogLine.from_entry(e) for e in entries]

    @strawberry.field(permission_classes=[CanView])
    async def health(self, info: Info) -> Health:
        return Health.from_report(await health.health(info.context.services, info.context.hub.subscriber_count))

    @strawberry.field(permission_classes=[CanView], description="The Docker hosts, their facts and status.")
    async def hosts(self, info: Info) -> list[Host]:
        return [Host.from_view(h) for h in await hosts.list_hosts(info.context.services)]

    @strawberry.field(permission_classes=[CanView])
    async def host(self, info: Info, name: str) -> Host | None:
        found = await hosts.get_host(info.context.services, name)
        return Host.from_view(found) if found else None


def _app_states(info: Info) -> AppStates[App]:
    """The process's store; a request without one (a test's own context) computes afresh."""
    states = info.context.app_states
    if states is None:
        services = info.context.services
        return AppStates(services, App.shaper(services), live=lambda: False)
    return states
