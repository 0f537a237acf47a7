"""An index for the Archive view: every status, newest activity first.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Without it the Archive list sorted every conversation of the workspace (bench/RESULTS.md).
    op.create_index(
        "ix_conversations_ws_activity", "conversations", ["workspace_id", "last_activity_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_conversations_ws_activity", table_name="conversations")
