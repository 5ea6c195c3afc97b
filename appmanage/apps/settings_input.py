"""The settings an operator gives (GraphQL `SettingInput` items) as one mapping: made once,
at the entry of install, preview and redeploy, refusing a key given twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from appmanage.errors import ValidationFailed


class GivenSetting(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def value(self) -> str: ...


def given_settings(items: Iterable[GivenSetting] | None) -> dict[str, str]:
    given: dict[str, str] = {}
    for item in items or ():
        if item.key in given:
            raise ValidationFailed(f"{item.key} is given twice", field=item.key)
        given[item.key] = item.value
    return given
