"""Delivery state of outgoing messages: the failure reason becomes a code with the provider's own
words kept beside it, and the attempt count, the next attempt's time and the in-flight mark of
a reply that is being retried.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import frontdesk.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = frontdesk.store.types.UTCDateTime
    op.add_column("messages", sa.Column("failure_detail", sa.Text(), nullable=True))
    op.add_column(
        "messages", sa.Column("delivery_attempts", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column("messages", sa.Column("next_attempt_at", when(), nullable=True))
    op.add_column("messages", sa.Column("attempt_started_at", when(), nullable=True))
    # The English text written so far is the detail; what kind of failure it was is not known.
    op.execute(
        "UPDATE messages SET failure_detail = failure_reason, failure_reason = 'unknown' "
        "WHERE failure_reason IS NOT NULL"
    )


def downgrade() -> None:
    op.execute(
        "UPDATE messages SET failure_reason = COALESCE(failure_detail, failure_reason) "
        "WHERE failure_reason IS NOT NULL"
    )
    with op.batch_alter_table("messages") as batch:
        for column in ("attempt_started_at", "next_attempt_at", "delivery_attempts", "failure_detail"):
            batch.drop_column(column)
