"""The GraphQL schema: Strawberry types per domain, assembled in `schema.py`."""
