"""Enum members answered by one dict lookup.

Strawberry's enum type finds the GraphQL name of a Python enum member by scanning the
enum's values one by one (`CustomGraphQLEnumType.coerce_output_value`): eleven steps for
an app that is FAILED, a few microseconds for each app of a 1,000-app answer. Here each
enum type of a built schema learns once, for every member, the name that Strawberry's
scan gives it, and answers a member by looking it up. Anything that is not a member goes
to Strawberry's scan as before, with the same answers and the same errors.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any, cast

from strawberry.schema.schema_converter import CustomGraphQLEnumType

from graphql import GraphQLSchema


class MemberLookupEnumType(CustomGraphQLEnumType):
    names_by_member: dict[Enum, str]

    def coerce_output_value(self, output_value: Any) -> str:
        if type(output_value) is self.wrapped_cls:
            name = self.names_by_member.get(output_value)
            if name is not None:
                return name
        return super().coerce_output_value(output_value)


def look_up_enum_members(schema: GraphQLSchema) -> None:
    """Every Strawberry enum type of `schema` made a MemberLookupEnumType."""
    for graphql_type in schema.type_map.values():
        if type(graphql_type) is CustomGraphQLEnumType:
            names = _names_by_member(graphql_type)
            graphql_type.__class__ = MemberLookupEnumType
            cast(MemberLookupEnumType, graphql_type).names_by_member = names


def _names_by_member(graphql_type: CustomGraphQLEnumType) -> dict[Enum, str]:
    members: Iterable[Enum] = graphql_type.wrapped_cls
    names = {}
    for member in members:
        try:
            names[member] = graphql_type.coerce_output_value(member)
        except ValueError:  # a member the schema leaves out: Strawberry's error, when asked
            continue
    return names
