"""Custom apps: apps.catalog_app nullable (an operator's own compose app comes from no
catalog), and the operator's compose file and `.env` kept in the row (apps.compose_file,
apps.env_file), so any API can show them whatever host the app lives on.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-20
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("apps") as batch:
        batch.alter_column("catalog_app", existing_type=sa.String(128), nullable=True)
        batch.add_column(sa.Column("compose_file", sa.Text(), nullable=True))
        batch.add_column(sa.Column("env_file", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("UPDATE apps SET catalog_app = 'custom' WHERE catalog_app IS NULL")
    with op.batch_alter_table("apps") as batch:
        batch.drop_column("env_file")
        batch.drop_column("compose_file")
        batch.alter_column("catalog_app", existing_type=sa.String(128), nullable=False)
