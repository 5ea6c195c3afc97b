"""What each GraphQL field asks of the caller's role. A call beyond it is a GraphQL error
with `extensions.code = "FORBIDDEN"`."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission

from appmanage.enums import Role
from appmanage.schema.context import Info


class RoleRequired(BasePermission):
    role: ClassVar[Role]
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        caller = info.context.role
        return caller is not None and caller.includes(self.role)


class CanView(RoleRequired):
    role = Role.VIEWER
    message = "this needs a token with the VIEWER role or more"


class CanOperate(RoleRequired):
    role = Role.OPERATOR
    message = "this needs a token with the OPERATOR role or more"


class CanAdminister(RoleRequired):
    role = Role.ADMIN
    message = "this needs a token with the ADMIN role"


class MayRevealSecrets(BasePermission):
    """Secret values are masked for everyone by default; ADMIN alone may ask for them."""

    message = "revealing secret values needs a token with the ADMIN role"
    error_extensions = {"code": "FORBIDDEN"}

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        return not kwargs.get("reveal") or info.context.role is Role.ADMIN
