"""IMAP import state (E3): per own-server email inbox, the folder's UIDVALIDITY and the last
imported UID, the lease that lets exactly one worker poll it, and the last error.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import frontdesk.store.types

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    when = frontdesk.store.types.UTCDateTime
    op.create_table(
        "imap_states",
        sa.Column("inbox_id", big, nullable=False),
        sa.Column("folder", sa.String(200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("imported_count", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("idle_supported", sa.Boolean(), nullable=True),
        sa.Column("lease_owner", sa.String(200), nullable=True),
        sa.Column("lease_until", when(), nullable=True),
        sa.Column("last_checked_at", when(), nullable=True),
        sa.Column("last_error_stage", sa.String(20), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", when(), nullable=True),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_imap_states_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("inbox_id", name=op.f("pk_imap_states")),
    )


def downgrade() -> None:
    op.drop_table("imap_states")
