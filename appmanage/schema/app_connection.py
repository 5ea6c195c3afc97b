"""`appsConnection`: the apps a page at a time, Relay-style, by name with opaque cursors."""

from __future__ import annotations

from typing import Any

import strawberry

from appmanage.resolvers.apps import Page
from appmanage.schema.apps import App


@strawberry.type
class AppEdge:
    cursor: str
    node: App


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class AppConnection:
    edges: list[AppEdge]
    page_info: PageInfo
    total_count: int = strawberry.field(description="How many apps match, over all pages.")

    @classmethod
    def from_page(cls, page: Page[Any]) -> AppConnection:
        edges = [AppEdge(cursor=cursor, node=node) for cursor, node in page.edges]
        return cls(
            edges=edges,
            page_info=PageInfo(has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None),
            total_count=page.total_count,
        )
