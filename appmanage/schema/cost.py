"""The shape of one GraphQL document, measured with fragments expanded, and its caps:
depth (APPMANAGE_MAX_QUERY_DEPTH), aliases (APPMANAGE_MAX_ALIASES) and cost
(APPMANAGE_MAX_QUERY_COST): the fields an operation selects, a fragment spread twice
counting twice, times its depth in levels. Introspection fields are left out, as
Strawberry's depth limiter leaves them out (graphql-core caps introspection's depth).

Strawberry's own depth and alias limiters expand every fragment spread anew, so a few
hundred bytes of fragments that each spread the next one twice keep them busy for ever.
Here each fragment is measured once, so any document is measured in linear time, and
the caps are checked on that measure."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from strawberry.extensions import AddValidationRules

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


@dataclass(frozen=True)
class Size:
    fields: int = 0
    levels: int = 0  # levels of fields, leaves included
    depth: int = 0  # as Strawberry's QueryDepthLimiter counts it: leaves add nothing
    aliases: int = 0

    @property
    def cost(self) -> int:
        return self.fields * self.levels

    def __add__(self, other: Size) -> Size:
        """Two selections side by side."""
        return Size(
            self.fields + other.fields,
            max(self.levels, other.levels),
            max(self.depth, other.depth),
            self.aliases + other.aliases,
        )


class Measure:
    def __init__(self, context: ValidationContext) -> None:
        self._context = context
        self._fragments: dict[str, Size] = {}
        self._visiting: set[str] = set()

    def selection_set(self, selection_set: SelectionSetNode | None) -> Size:
        total = Size()
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection_set(selection.selection_set)
        return total

    def field(self, node: FieldNode) -> Size:
        inner = self.selection_set(node.selection_set)
        alias = 1 if node.alias else 0
        if node.name.value.startswith("__"):  # introspection: graphql-core caps its depth
            return Size(aliases=inner.aliases + alias)
        return Size(
            fields=1 + inner.fields,
            levels=1 + inner.levels,
            depth=1 + inner.depth if node.selection_set is not None else 0,
            aliases=inner.aliases + alias,
        )

    def fragment(self, name: str) -> Size:
        if name in self._fragments:
            return self._fragments[name]
        definition = self._context.get_fragment(name)
        if definition is None or name in self._visiting:  # unknown or cyclic: other rules report it
            return Size()
        self._visiting.add(name)
        size = self._fragments[name] = self.selection_set(definition.selection_set)
        self._visiting.discard(name)
        return size


@cache  # one rule class per caps, so that a document's validation can be reused (document_cache)
def limits_rule(max_depth: int, max_aliases: int, max_cost: int) -> type[ValidationRule]:
    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            measure = Measure(context)
            aliases = 0
            for definition in context.document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    size = measure.selection_set(definition.selection_set)
                    aliases += size.aliases
                    self.check(definition, size)
            if aliases > max_aliases:
                self.report_error(GraphQLError(f"{aliases} aliases found. Allowed: {max_aliases}"))

        def check(self, operation: OperationDefinitionNode, size: Size) -> None:
            name = operation.name.value if operation.name else "anonymous"
            if size.depth > max_depth:
                self.report_error(GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", [operation]))
            if size.cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"'{name}' costs {size.cost} ({size.fields} fields, fragments expanded, times "
                        f"{size.levels} levels), more than the {max_cost} allowed (APPMANAGE_MAX_QUERY_COST): "
                        "ask for fewer fields or split it",
                        [operation],
                        extensions={"code": "QUERY_TOO_COSTLY"},
                    )
                )

    return DocumentLimits


class DocumentLimiter(AddValidationRules):
    def __init__(self, max_depth: int, max_aliases: int, max_cost: int) -> None:
        super().__init__([limits_rule(max_depth, max_aliases, max_cost)])
