"""app_stats_minutes: one-minute averages of each app's CPU and memory, kept 7 days

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_stats_minutes",
        sa.Column("app", sa.String(32), primary_key=True),
        sa.Column("minute", sa.DateTime(), primary_key=True),
        sa.Column("host", sa.String(64), nullable=False),
        sa.Column("cpu_percent", sa.Float(), nullable=False),
        sa.Column("memory_bytes", sa.Float(), nullable=False),
    )
    op.create_index("ix_app_stats_minutes_minute", "app_stats_minutes", ["minute"])


def downgrade() -> None:
    op.drop_index("ix_app_stats_minutes_minute", table_name="app_stats_minutes")
    op.drop_table("app_stats_minutes")
