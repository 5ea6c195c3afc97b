"""backups: restic snapshots of apps as the worker mirrors them; retention per app

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "backups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("app", sa.String(32), nullable=False),
        sa.Column("host", sa.String(64), nullable=False),
        sa.Column("catalog_app", sa.String(128), nullable=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("safety_for_job", sa.String(32), nullable=True),
        sa.Column("manifest", sa.JSON(), nullable=False),
    )
    op.create_index("ix_backups_app_created", "backups", ["app", "created_at"])
    op.create_table(
        "backup_retention",
        sa.Column("app", sa.String(32), primary_key=True),
        sa.Column("keep_last", sa.Integer(), nullable=False),
        sa.Column("keep_daily", sa.Integer(), nullable=False),
        sa.Column("keep_weekly", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("backup_retention")
    op.drop_index("ix_backups_app_created", table_name="backups")
    op.drop_table("backups")
