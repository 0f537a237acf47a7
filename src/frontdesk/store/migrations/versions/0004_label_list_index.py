"""Let the label filter walk an index of its own, newest activity first.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import frontdesk.store.types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # At a million conversations a rarely used label made the list scan every open conversation
    # (bench/RESULTS-full-scale.md); copies of status and last activity fix the access path.
    # Plain ADD COLUMN (no table rebuild on SQLite): NOT NULL with a placeholder default, then
    # the real values copied from the conversations.
    op.add_column(
        "conversation_labels", sa.Column("status", sa.String(20), nullable=False, server_default="open")
    )
    op.add_column(
        "conversation_labels",
        sa.Column(
            "last_activity_at",
            frontdesk.store.types.UTCDateTime(),
            nullable=False,
            server_default="1970-01-01 00:00:00",
        ),
    )
    op.execute(
        "UPDATE conversation_labels SET "
        "status = (SELECT status FROM conversations c WHERE c.id = conversation_labels.conversation_id), "
        "last_activity_at = (SELECT last_activity_at FROM conversations c "
        "WHERE c.id = conversation_labels.conversation_id)"
    )
    op.create_index(
        "ix_conversation_labels_label_status_activity",
        "conversation_labels",
        ["label_id", "status", "last_activity_at", "conversation_id"],
    )
    op.create_index(
        "ix_conversation_labels_label_activity",
        "conversation_labels",
        ["label_id", "last_activity_at", "conversation_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_conversation_labels_label_activity", table_name="conversation_labels")
    op.drop_index("ix_conversation_labels_label_status_activity", table_name="conversation_labels")
    op.drop_column("conversation_labels", "last_activity_at")
    op.drop_column("conversation_labels", "status")
