"""Reply windows (PRODUCT C14, decision 0039): the provider's time of the customer's last message
in a conversation and the agent replies sent since it, so a conversation's window is read from
its own row (no query per row in a list).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from frontdesk.store.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("customer_last_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("replies_since_customer", sa.Integer, nullable=False, server_default="0"))
    # Conversations from before this revision: our receive time of the customer's last message
    # (the provider's was not kept); the replies after it are counted from the thread.
    op.execute(
        """
        UPDATE conversations SET customer_last_at = (
            SELECT MAX(m.created_at) FROM messages m
            WHERE m.conversation_id = conversations.id AND m.kind = 'incoming'
              AND m.sender_type = 'contact'
        )
        """
    )
    op.execute(
        """
        UPDATE conversations SET replies_since_customer = (
            SELECT COUNT(*) FROM messages m
            WHERE m.conversation_id = conversations.id AND m.kind = 'outgoing'
              AND m.created_at > conversations.customer_last_at
        )
        WHERE customer_last_at IS NOT NULL
        """
    )


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("replies_since_customer")
        batch.drop_column("customer_last_at")
