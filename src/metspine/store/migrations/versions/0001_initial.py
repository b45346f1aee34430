"""Initial schema: users, tokens, versioned cases, assessment snapshots, plan checks, decisions,
and the hash-chained append-only audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
    """CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
       BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END""",
)
_PG_TRIGGERS = (
    """CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
    """CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "auth_tokens",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
    )
    op.create_index("ix_auth_tokens_user_id", "auth_tokens", ["user_id"])
    op.create_table(
        "cases",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("primary_site", sa.String(64), nullable=True),
        sa.Column("assessed_on", sa.String(10), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
        sa.Column("updated_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_cases_assessed_on", "cases", ["assessed_on"])
    op.create_table(
        "case_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(128), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.UniqueConstraint("case_id", "version", name="uq_case_versions_case_version"),
    )
    op.create_index("ix_case_versions_case_id", "case_versions", ["case_id"])
    op.create_table(
        "assessments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(128), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("engine_version", sa.String(32), nullable=False),
        sa.Column("knowledge_version", sa.String(32), nullable=False),
        sa.Column("policy_name", sa.String(128), nullable=False),
        sa.Column("policy_sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_assessments_case_id", "assessments", ["case_id"])
    op.create_table(
        "plan_checks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(128), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("lesion_id", sa.String(64), nullable=True),
        sa.Column("fractions", sa.Integer(), nullable=False),
        sa.Column("rtdose_sha256", sa.String(64), nullable=False),
        sa.Column("rtstruct_sha256", sa.String(64), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("dvh_png", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_plan_checks_case_id", "plan_checks", ["case_id"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(128), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("case_version", sa.Integer(), nullable=False),
        sa.Column("lesion_id", sa.String(64), nullable=True),
        sa.Column("decision", sa.String(64), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("agreed_by", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
    )
    op.create_index("ix_decisions_case_id", "decisions", ["case_id"])
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("entity_type", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_audit_events_entity", "audit_events", ["entity_type", "entity_id"])
    dialect = op.get_bind().dialect.name
    for stmt in (
        _SQLITE_TRIGGERS if dialect == "sqlite" else _PG_TRIGGERS if dialect == "postgresql" else ()
    ):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for name in (
        "audit_events",
        "decisions",
        "plan_checks",
        "assessments",
        "case_versions",
        "cases",
        "auth_tokens",
        "users",
    ):
        op.drop_table(name)
