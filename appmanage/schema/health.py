from __future__ import annotations

import strawberry

from appmanage.resolvers.health import HealthReport


@strawberry.type
class Health:
    docker: bool
    redis: bool
    database: bool
    workers: int
    subscribers: int = strawberry.field(description="Live subscriptions on this API process.")

    @classmethod
    def from_report(cls, report: HealthReport) -> Health:
        return cls(
            docker=report.docker,
            redis=report.redis,
            database=report.database,
            workers=report.workers,
            subscribers=report.subscribers,
        )
