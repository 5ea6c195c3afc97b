"""Caps on what one GraphQL document may ask, from the settings (APPMANAGE_MAX_*): lexical
tokens (Strawberry's limiter, while parsing), then depth, aliases and cost measured with
fragments expanded (cost.py: Strawberry's own depth and alias limiters take exponential
time on nested fragments)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from strawberry.extensions import DisableIntrospection, MaxTokensLimiter, SchemaExtension

from appmanage.config import Settings
from appmanage.schema.cost import DocumentLimiter


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    extensions: list[Callable[[], SchemaExtension]] = [
        partial(MaxTokensLimiter, max_token_count=settings.max_query_tokens),
        partial(
            DocumentLimiter,
            max_depth=settings.max_query_depth,
            max_aliases=settings.max_aliases,
            max_cost=settings.max_query_cost,
        ),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return extensions
