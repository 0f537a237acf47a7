"""What a channel keeps for an inbox between calls, shared by every process (channel_state): a
provider's access token and its expiry, a QR code's ticket. Values are encrypted at rest.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from frontdesk.store.types import BigId, UTCDateTime

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "channel_state",
        sa.Column("inbox_id", BigId, nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("value_encrypted", sa.Text, nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_channel_state_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("inbox_id", "key", name="pk_channel_state"),
    )


def downgrade() -> None:
    op.drop_table("channel_state")
