"""Averages per app over one history period (a minute by default), from the samples.

Each sample stands for the time since the one before it, so the averages are weighted by
that time: the CPU average is then the CPU time used over the period, however often it
was sampled. A period is handed over once a sample of a later period arrives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from appmanage.stats.samples import HostSample


@dataclass(frozen=True)
class Average:
    app: str
    cpu_percent: float
    memory_bytes: float


@dataclass(frozen=True)
class Period:
    start: datetime
    averages: list[Average]


@dataclass
class _Sums:
    seconds: float = 0.0
    cpu: float = 0.0
    memory: float = 0.0


@dataclass
class PeriodAverages:
    seconds: float = 60.0
    _start: float | None = None
    _sums: dict[str, _Sums] = field(default_factory=dict)

    def add(self, sample: HostSample, weight_seconds: float) -> Period | None:
        """Count the sample; the period before it when this sample starts a new one."""
        at = sample.sampled_at.timestamp()
        start = at - at % self.seconds
        finished = None
        if self._start is not None and start != self._start:
            finished = self._finish()
        self._start = start
        if weight_seconds <= 0:
            return finished
        for name, app in sample.apps.items():
            sums = self._sums.setdefault(name, _Sums())
            sums.seconds += weight_seconds
            sums.cpu += app.total.cpu_percent * weight_seconds
            sums.memory += app.total.memory_bytes * weight_seconds
        return finished

    def _finish(self) -> Period | None:
        assert self._start is not None
        averages = [
            Average(name, s.cpu / s.seconds, s.memory / s.seconds) for name, s in self._sums.items() if s.seconds > 0
        ]
        self._sums = {}
        return Period(datetime.fromtimestamp(self._start, UTC), averages) if averages else None
