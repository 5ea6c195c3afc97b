"""A schedule's cron expression, in UTC: checked once when the schedule is made, then the
ticks it names. Five fields (minute hour day-of-month month day-of-week) or an alias
(@hourly, @daily, ...); a sixth, seconds, only with APPMANAGE_SCHEDULE_SECONDS (tests)."""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import CroniterError, croniter  # type: ignore[import-untyped]

from appmanage.errors import ValidationFailed

ALIASES = frozenset({"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"})
FIELDS = "minute hour day-of-month month day-of-week"


def checked_cron(text: str, seconds_allowed: bool = False) -> str:
    """The expression, its spaces normalised; ValidationFailed saying what is wrong."""
    cron = " ".join(text.split())
    count = len(cron.split(" ")) if cron else 0
    if cron.lower() in ALIASES:
        cron = cron.lower()
    elif count == 6 and not seconds_allowed:
        raise ValidationFailed(
            f"{cron!r} has a sixth field (seconds): a schedule runs at most once a minute; give five fields, {FIELDS}",
            field="cron",
        )
    elif count not in (5, 6):
        raise ValidationFailed(f"{cron!r} has {count} fields; a cron expression has five: {FIELDS}", field="cron")
    try:
        next_tick(cron, datetime.now(UTC))
    except (CroniterError, ValueError, KeyError) as exc:
        raise ValidationFailed(f"{cron!r} is not a valid cron expression: {exc}", field="cron") from None
    return cron


def next_tick(cron: str, after: datetime) -> datetime:
    """The first tick strictly after `after`, in UTC."""
    found: datetime = croniter(cron, after.astimezone(UTC)).get_next(datetime)
    return found.astimezone(UTC)
