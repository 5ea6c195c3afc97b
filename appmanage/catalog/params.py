"""Typed parameters: parse what the operator gave, fill defaults, generate secrets."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from urllib.parse import urlparse

from appmanage.catalog.model import CatalogApp, Parameter
from appmanage.enums import ParameterType
from appmanage.errors import ValidationFailed

MAX_VALUE_LENGTH = 4096
TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


def resolve_settings(
    app: CatalogApp,
    given: Mapping[str, str],
    previous: Mapping[str, str] | None = None,
    host: str = "localhost",
) -> dict[str, str]:
    """The full settings of an install (previous=None) or a redeploy (previous=current);
    `host` is the public name that derived defaults (`default_from`) may use. On a
    redeploy a value that equals what its `default_from` gives for the previous settings
    is derived again from the new ones (W9_URL follows its port); one the operator set to
    something else is kept, as is one given now."""
    for key in given:
        if app.parameter(key) is None:
            raise ValidationFailed(f"{key} is not a parameter of {app.name}", field=key)
    values: dict[str, str] = {}
    derived: list[Parameter] = []
    for param in app.parameters:
        changed = previous is not None and param.key in given and given[param.key] != previous.get(param.key)
        if changed and not param.editable:
            raise ValidationFailed(f"{param.key} cannot be changed after install", field=param.key)
        if param.key in given:
            values[param.key] = parse_value(param, given[param.key])
        elif previous is not None and param.key in previous:
            if param.default_from is not None and previous[param.key] == derive(param.default_from, previous, host):
                derived.append(param)
            else:
                values[param.key] = previous[param.key]
        elif param.default is not None and param.default != "":
            values[param.key] = parse_value(param, param.default)
        elif param.default_from is not None:
            derived.append(param)
        elif param.secret:
            values[param.key] = generate_secret()
        elif param.required:
            raise ValidationFailed(f"{param.key} is required", field=param.key)
    for param in derived:
        values[param.key] = parse_value(param, derive(param.default_from or "", values, host))
    return values


def derive(template: str, values: Mapping[str, str], host: str) -> str:
    known = {"host": host, **values}
    return re.sub(r"\{(\w+)\}", lambda m: known.get(m.group(1), ""), template)


def parse_value(param: Parameter, raw: str) -> str:
    key = param.key
    if len(raw) > MAX_VALUE_LENGTH:
        raise ValidationFailed(f"{key} is longer than {MAX_VALUE_LENGTH} characters", field=key)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        raise ValidationFailed(f"{key} contains control characters", field=key)
    value = raw.strip() if param.type is not ParameterType.PASSWORD else raw
    if param.required and value == "":
        raise ValidationFailed(f"{key} is required", field=key)
    match param.type:
        case ParameterType.INT | ParameterType.PORT:
            value = str(_parse_int(param, value))
        case ParameterType.BOOL:
            value = _parse_bool(param, value)
        case ParameterType.ENUM:
            if value not in (param.choices or ()):
                raise ValidationFailed(f"{key} must be one of {', '.join(param.choices or ())}", field=key)
        case ParameterType.URL:
            url = urlparse(value)
            if url.scheme not in ("http", "https") or not url.netloc:
                raise ValidationFailed(f"{key} must be an http or https URL", field=key)
        case _:
            pass
    if param.pattern and not re.fullmatch(param.pattern, value):
        raise ValidationFailed(f"{key} does not match {param.pattern}", field=key)
    return value


def _parse_int(param: Parameter, value: str) -> int:
    if not re.fullmatch(r"-?[0-9]{1,10}", value):
        raise ValidationFailed(f"{param.key} must be a whole number", field=param.key)
    number = int(value)
    low, high = param.minimum, param.maximum
    if param.type is ParameterType.PORT:
        low, high = max(low or 1, 1), min(high or 65535, 65535)
    if low is not None and number < low:
        raise ValidationFailed(f"{param.key} must be at least {low}", field=param.key)
    if high is not None and number > high:
        raise ValidationFailed(f"{param.key} must be at most {high}", field=param.key)
    return number


def _parse_bool(param: Parameter, value: str) -> str:
    word = value.lower()
    if word in TRUE_WORDS:
        return "true"
    if word in FALSE_WORDS:
        return "false"
    raise ValidationFailed(f"{param.key} must be true or false", field=param.key)


def generate_secret() -> str:
    return secrets.token_urlsafe(18)


def host_ports(app: CatalogApp, values: Mapping[str, str]) -> list[int]:
    return sorted({int(values[key]) for key in app.port_keys if key in values})
