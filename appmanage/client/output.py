"""How answers are printed: aligned tables and `key: value` blocks for people, JSON for
scripts (`--json`: the API's own objects, one JSON document, or one per line when following)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

Column = tuple[str, Callable[[Mapping[str, Any]], object]]


def field(key: str) -> Callable[[Mapping[str, Any]], object]:
    return lambda row: row.get(key)


def text(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.0%}" if 0 <= value <= 1 else f"{value:g}"
    if isinstance(value, list):
        return ",".join(text(item) for item in value) or "-"
    return str(value)


def size(value: float | None) -> str:
    """Bytes for people, in powers of 1024 like `docker stats`: 512B, 3.1KiB, 12.4MiB."""
    if value is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f}{unit}" if unit == "B" else f"{value:.1f}{unit}"
        value /= 1024
    return f"{value:.1f}TiB"


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    cells = [[text(get(row)) for _, get in columns] for row in rows]
    headers = [name for name, _ in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    for line in [headers, *cells]:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip(), file=out)


def block(item: Mapping[str, Any], keys: Sequence[str], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    width = max(len(key) for key in keys)
    for key in keys:
        print(f"{key.ljust(width)}  {text(item.get(key))}", file=out)


def as_json(value: object, out: TextIO | None = None, compact: bool = False) -> None:
    out = out or sys.stdout
    print(json.dumps(value, separators=(",", ":")) if compact else json.dumps(value, indent=2), file=out, flush=True)


def fail(message: str) -> None:
    print(f"appmanage: {message}", file=sys.stderr)
