"""The client's idempotency key of a message an agent posted (`client_id` or the Idempotency-Key
header): a retried request finds the message its first attempt stored instead of storing it again.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("messages", sa.Column("client_id", sa.String(100), nullable=True))
    # NULLs are distinct in a unique index on both databases: messages without a key never clash.
    op.create_index(
        "uq_messages_client",
        "messages",
        ["conversation_id", "sender_type", "sender_id", "client_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("uq_messages_client", table_name="messages")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("client_id")
