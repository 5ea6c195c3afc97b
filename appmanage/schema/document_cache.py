"""Each GraphQL document parsed and validated once, not once per request.

A document's text decides its syntax tree, and the tree with the schema and the
validation rules decides its validation errors; so both are kept per text, for the
most recent `size` texts (what a dashboard or a CLI asks again and again). A text is
parsed and validated by Strawberry exactly as before the first time, with every rule
and cap (tokens, depth, aliases, cost, introspection); later requests with the same
text, the same parse options and the same rules reuse the tree and the errors. A text
that does not parse is not kept. The cache belongs to one schema.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from typing import TypeVar

from strawberry.extensions import SchemaExtension

from graphql import DocumentNode, GraphQLError

T = TypeVar("T")
DOCUMENTS_KEPT = 256


class DocumentMemory:
    """The most recent documents and validation results, by key; thread-safe."""

    def __init__(self, size: int = DOCUMENTS_KEPT) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._documents: OrderedDict[Hashable, DocumentNode] = OrderedDict()
        self._errors: OrderedDict[Hashable, tuple[GraphQLError, ...]] = OrderedDict()

    def document(self, key: Hashable) -> DocumentNode | None:
        return self._recall(self._documents, key)

    def errors(self, key: Hashable) -> tuple[GraphQLError, ...] | None:
        return self._recall(self._errors, key)

    def keep_document(self, key: Hashable, document: DocumentNode) -> None:
        self._keep(self._documents, key, document)

    def keep_errors(self, key: Hashable, errors: tuple[GraphQLError, ...]) -> None:
        self._keep(self._errors, key, errors)

    def _recall(self, kept: OrderedDict[Hashable, T], key: Hashable) -> T | None:
        with self._lock:
            found = kept.get(key)
            if found is not None:
                kept.move_to_end(key)
            return found

    def _keep(self, kept: OrderedDict[Hashable, T], key: Hashable, value: T) -> None:
        with self._lock:
            kept[key] = value
            kept.move_to_end(key)
            while len(kept) > self._size:
                kept.popitem(last=False)


class DocumentCache(SchemaExtension):
    """Serves parse and validation from `memory` when the same text came before."""

    def __init__(self, memory: DocumentMemory) -> None:
        super().__init__()
        self._memory = memory

    def _text_key(self) -> Hashable | None:
        context = self.execution_context
        if context.query is None:
            return None
        return (context.query, tuple(sorted(context.parse_options.items())))

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        key = self._text_key()
        known = None if key is None else self._memory.document(key)
        if known is not None:
            context.graphql_document = known
        yield
        if key is not None and known is None and context.graphql_document is not None:
            self._memory.keep_document(key, context.graphql_document)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        text_key = self._text_key()
        key = None if text_key is None else (text_key, tuple(context.validation_rules))
        known = None if key is None or context.pre_execution_errors is not None else self._memory.errors(key)
        if known is not None:
            context.pre_execution_errors = list(known)
        unvalidated = context.pre_execution_errors is None
        yield
        if key is not None and unvalidated and context.pre_execution_errors is not None:
            self._memory.keep_errors(key, tuple(context.pre_execution_errors))
