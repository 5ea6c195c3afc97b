"""The domain enumerations, registered with Strawberry under their own names."""

from __future__ import annotations

import strawberry

from appmanage.enums import AppAction, AppStatus, JobKind, JobState, ParameterType, Role

for _enum in (AppAction, AppStatus, JobKind, JobState, ParameterType, Role):
    strawberry.enum(_enum)

__all__ = ["AppAction", "AppStatus", "JobKind", "JobState", "ParameterType", "Role"]
