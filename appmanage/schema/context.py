from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strawberry.types import Info as StrawberryInfo

from appmanage.app_states import AppStates
from appmanage.auth.sockets import SocketLease
from appmanage.enums import Role
from appmanage.event_stream import EventHub
from appmanage.services import Services


@dataclass
class Context:
    services: Services
    hub: EventHub
    request: Any = None
    response: Any = None
    connection_params: dict[str, Any] | None = None
    role: Role | None = None
    lease: SocketLease | None = None  # a websocket's place among its token's sockets
    app_states: AppStates[Any] | None = None  # the process's apps, shaped (None: computed per query)


Info = StrawberryInfo[Context, None]
