"""The provider event ids each inbox took (inbound_events): a repeated delivery of an event
(a webhook retried, an update sent twice) is acknowledged and stores nothing. Rows older than a
week are pruned by the worker.

Revision ID: 0014
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from frontdesk.store.types import BigId, UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_events",
        sa.Column("inbox_id", BigId, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_inbound_events_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("inbox_id", "event_id", name="pk_inbound_events"),
    )
    op.create_index("ix_inbound_events_created", "inbound_events", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_inbound_events_created", table_name="inbound_events")
    op.drop_table("inbound_events")
