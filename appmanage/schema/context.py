from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strawberry.types import Info as StrawberryInfo

from appmanage.services import Services


@dataclass
class Context:
    services: Services
    request: Any = None
    response: Any = None


Info = StrawberryInfo[Context, None]
