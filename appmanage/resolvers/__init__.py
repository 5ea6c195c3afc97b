"""Thin functions behind the GraphQL fields: they run blocking work in a thread and hand
domain objects to the schema, which shapes them."""
