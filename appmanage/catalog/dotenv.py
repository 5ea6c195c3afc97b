"""Read the `KEY=value` lines of a compose `.env` file, as compose reads their values."""

from __future__ import annotations

import re

LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=(.*)")


def parse_env(text: str) -> dict[str, str]:
    """Keys in file order, values unquoted, trailing comments of unquoted values dropped;
    `$` references are left as they are."""
    values: dict[str, str] = {}
    for line in text.splitlines():
        match = LINE.fullmatch(line)
        if match is None or line.lstrip().startswith("#"):
            continue
        key, raw = match.groups()
        values[key] = _value(raw.strip())
    return values


def _value(raw: str) -> str:
    if raw[:1] in ("'", '"'):
        end = raw.find(raw[0], 1)
        if end > 0:
            return raw[1:end]
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()
