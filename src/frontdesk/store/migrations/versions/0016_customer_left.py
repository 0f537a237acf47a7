"""The customer unfollowed or blocked the account (LINE unfollow, WeChat unsubscribe, a blocked
Telegram bot): conversations.customer_left_at, set by the follow event and cleared by a new
follow. While it is set, nothing the agent writes there can reach the customer.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from frontdesk.store.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("customer_left_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("customer_left_at")
