"""Alembic environment: runs on the engine AppManage hands over (Database.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine, create_engine

from appmanage.storage.models import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite:///appmanage.db")

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
