"""Resource stats for the API: the latest sample of an app's host, the live feed of an app
or a host, and an app's history of one-minute averages."""

from __future__ import annotations

from asyncio import to_thread
from collections.abc import AsyncIterator
from datetime import datetime

from redis.exceptions import RedisError

from appmanage.errors import NotFound, ValidationFailed
from appmanage.hosts.registry import read_host
from appmanage.services import Services
from appmanage.stats.feed import feed_for
from appmanage.stats.samples import HostSample
from appmanage.storage import queries
from appmanage.storage.models import LOCAL_HOST, AppStatsMinute
from appmanage.storage.stats_history import app_history

MIN_EVERY_SECONDS = 1
MAX_EVERY_SECONDS = 3600


async def latest_sample(services: Services, host: str) -> HostSample | None:
    """The host's newest sample (waiting up to 2 s for a fresh one); None when it has none."""
    return await feed_for(services.settings.redis_url, services.settings.namespace).latest(host)


async def app_sample(services: Services, name: str, host: str, running: int) -> HostSample | None:
    """The latest sample of the app's host; when it shows none of the app's `running`
    containers (they started since), a newer one, waited for up to 2 s."""
    feed = feed_for(services.settings.redis_url, services.settings.namespace)
    sample = await feed.latest(host)
    if sample is not None and running > 0 and not _shows(sample, name):
        sample = await feed.newer_than(host, sample, name)
    return sample


def _shows(sample: HostSample, name: str) -> bool:
    usage = sample.apps.get(name)
    return usage is not None and usage.total.containers > 0


async def app_host(services: Services, name: str) -> str:
    """The Docker host of an app AppManage manages; NotFound for any other name."""

    def read() -> str:
        with services.db.read() as session:
            apps = queries.list_apps(session, [name])
        if not apps:
            raise NotFound(f"no app is named {name}")
        return apps[0].host

    return await to_thread(read)


def check_every(every: int) -> None:
    if not MIN_EVERY_SECONDS <= every <= MAX_EVERY_SECONDS:
        raise ValidationFailed(
            f"everySeconds must be from {MIN_EVERY_SECONDS} to {MAX_EVERY_SECONDS}, not {every}", "everySeconds"
        )


async def check_host(services: Services, host: str) -> None:
    """NotFound for a host no agent has registered (`local` always counts, as for status)."""

    def registered() -> bool:
        try:
            return read_host(services.redis, services.settings.namespace, host) is not None
        except RedisError:
            return True  # reading its sample says what is wrong

    if host != LOCAL_HOST and not await to_thread(registered):
        raise NotFound(f"no host is named {host!r}: start `appmanage agent --host {host}` to register it")


async def host_sample(services: Services, host: str) -> HostSample | None:
    """The host's newest sample, as latest_sample; NotFound for a host not registered."""
    await check_host(services, host)
    return await latest_sample(services, host)


async def host_samples(services: Services, host: str, every: int) -> AsyncIterator[HostSample]:
    """The host's samples, `every` seconds apart, for as long as the caller listens;
    NotFound for a host not registered."""
    check_every(every)
    await check_host(services, host)
    async for sample in _samples(services, host, every):
        yield sample


async def app_samples(services: Services, name: str, every: int) -> AsyncIterator[HostSample]:
    """The samples of the app's host, `every` seconds apart; NotFound for an unknown app."""
    check_every(every)
    host = await app_host(services, name)
    async for sample in _samples(services, host, every):
        yield sample


async def _samples(services: Services, host: str, every: int) -> AsyncIterator[HostSample]:
    feed = feed_for(services.settings.redis_url, services.settings.namespace)
    async with feed.subscribe(host, every) as subscriber:
        while True:
            yield await subscriber.next()


async def stats_history(services: Services, name: str, since: datetime) -> list[AppStatsMinute]:
    return await to_thread(app_history, services.db, name, since, services.settings.max_list_size)
