"""Secret values kept out of job logs, whatever their length and however compose prints them.

Each secret is looked for as it is and in the escaped forms it takes on its way to compose:
`$` doubled (`$$`, compose's own escape) and the `.env` quoting of `catalog/render.py`
(`\\`, `"` and `$` behind a backslash). A value of 4 characters or more is masked wherever
it appears. A shorter one is masked only as a whole token (not inside a longer word or
number): masking every "a" or "80" inside ordinary output would make logs unreadable and
reveal, by the gaps, where the short value sits anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from appmanage.catalog.secrets import MASK

__all__ = ["MASK", "SecretMask", "escaped_forms"]
SHORT = 4


def escaped_forms(value: str) -> set[str]:
    dollars = value.replace("$", "$$")
    env_quoted = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return {value, dollars, env_quoted}


def _pattern(form: str) -> str:
    escaped = re.escape(form)
    if len(form) >= SHORT:
        return escaped
    before = r"(?<![A-Za-z0-9])" if form[0].isalnum() else ""
    after = r"(?![A-Za-z0-9])" if form[-1].isalnum() else ""
    return f"{before}{escaped}{after}"


class SecretMask:
    """Replaces every known secret in a line by MASK."""

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._regex: re.Pattern[str] | None = None

    def add(self, values: Iterable[str]) -> None:
        fresh = {v for v in values if v} - self._values
        if fresh:
            self._values |= fresh
            forms = {form for value in self._values for form in escaped_forms(value)}
            longest_first = sorted(forms, key=lambda f: (-len(f), f))
            self._regex = re.compile("|".join(_pattern(form) for form in longest_first))

    def __call__(self, line: str) -> str:
        return line if self._regex is None else self._regex.sub(MASK, line)

    def __contains__(self, value: str) -> bool:
        return value in self._values
