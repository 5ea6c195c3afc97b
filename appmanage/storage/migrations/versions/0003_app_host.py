"""apps.host: the Docker host an app lives on (existing apps: local)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.add_column(sa.Column("host", sa.String(64), nullable=False, server_default="local"))
        batch.create_index("ix_apps_host", ["host"])


def downgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.drop_index("ix_apps_host")
        batch.drop_column("host")
