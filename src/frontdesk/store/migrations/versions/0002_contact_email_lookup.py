"""Find contacts by email address regardless of case.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Full-text tokenisers split or keep addresses differently per backend; an exact,
    # case-insensitive lookup behaves the same on both.
    op.execute("CREATE INDEX ix_contacts_workspace_email_lower ON contacts (workspace_id, lower(email))")


def downgrade() -> None:
    op.execute("DROP INDEX ix_contacts_workspace_email_lower")
