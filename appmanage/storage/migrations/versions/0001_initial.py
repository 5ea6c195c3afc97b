"""apps, jobs and job log lines

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UNFINISHED = "state IN ('QUEUED', 'RUNNING')"
JOB_KINDS = ("INSTALL", "START", "STOP", "RESTART", "REDEPLOY", "UPDATE", "UNINSTALL")
JOB_STATES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED")


def upgrade() -> None:
    op.create_table(
        "apps",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("catalog_app", sa.String(128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("host_ports", sa.JSON(), nullable=False),
        sa.Column("installed", sa.Boolean(), nullable=False),
        sa.Column("desired_running", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("app_name", sa.String(32), nullable=False),
        sa.Column("kind", sa.Enum(*JOB_KINDS, name="jobkind", native_enum=False, length=16), nullable=False),
        sa.Column("state", sa.Enum(*JOB_STATES, name="jobstate", native_enum=False, length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("step", sa.Text()),
        sa.Column("progress", sa.Float()),
        sa.Column("error", sa.Text()),
        sa.Column("worker", sa.String(128)),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime()),
        sa.Column("finished_at", sa.DateTime()),
        sa.Column("heartbeat_at", sa.DateTime()),
    )
    op.create_index(
        "ix_jobs_one_unfinished_per_app",
        "jobs",
        ["app_name"],
        unique=True,
        sqlite_where=sa.text(UNFINISHED),
        postgresql_where=sa.text(UNFINISHED),
    )
    op.create_index("ix_jobs_app_created", "jobs", ["app_name", "created_at"])
    op.create_index("ix_jobs_state", "jobs", ["state"])
    op.create_table(
        "job_log_lines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.String(32), sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
    )
    op.create_index("ix_job_log_lines_job", "job_log_lines", ["job_id", "id"])


def downgrade() -> None:
    op.drop_table("job_log_lines")
    op.drop_table("jobs")
    op.drop_table("apps")
