"""Email templates (E5): one per email inbox, the fields its replies are wrapped in.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import frontdesk.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "email_templates",
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.Column("inbox_id", big, nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("header_image_path", sa.String(200), nullable=True),
        sa.Column("updated_at", frontdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", big, nullable=True),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_email_templates_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["users.id"],
            name=op.f("fk_email_templates_updated_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_templates")),
        sa.UniqueConstraint("inbox_id", name=op.f("uq_email_templates_inbox")),
    )


def downgrade() -> None:
    op.drop_table("email_templates")
