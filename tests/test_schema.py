"""The served schema: exported to graphql/schema.graphql, and compatible with the contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from appmanage.schema.schema import schema
from graphql import build_schema, find_breaking_changes

ROOT = Path(__file__).resolve().parents[1]
EXPORTED = ROOT / "graphql" / "schema.graphql"
CONTRACT = ROOT.parent / "shared" / "api" / "contract.graphql"
# Agreed exceptions, each with its reason: the lead decides what joins this list.
AGREED = {
    # issue 14: an operator's own compose app comes from no catalog, and its catalogApp is null
    "FIELD_CHANGED_KIND: Field App.catalogApp changed type from String! to String.",
}


def test_exported_schema_is_current() -> None:
    assert EXPORTED.read_text() == schema.as_str() + "\n", "run `make schema` and commit graphql/schema.graphql"


@pytest.mark.skipif(not CONTRACT.exists(), reason="../shared/api/contract.graphql is not beside this checkout")
def test_schema_breaks_nothing_in_the_contract() -> None:
    contract = build_schema(CONTRACT.read_text())
    served = build_schema(schema.as_str())
    breaking = [f"{change.type.name}: {change.description}" for change in find_breaking_changes(contract, served)]
    assert sorted(set(breaking) - AGREED) == []
