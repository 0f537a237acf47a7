"""What the dashboard needs: profiles and preferences, availability, deactivated members,
disabled inboxes, and password-reset tokens.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import frontdesk.store.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("users", sa.Column("display_name", sa.String(200), nullable=True))
    # A path under the attachments storage folder, served through a capability URL.
    op.add_column("users", sa.Column("avatar_path", sa.String(300), nullable=True))
    op.add_column("users", sa.Column("preferences", sa.JSON, nullable=False, server_default="{}"))
    # What the agent chose (online / away / offline); shown only while they are connected.
    op.add_column(
        "memberships", sa.Column("availability", sa.String(20), nullable=False, server_default="online")
    )
    op.add_column("memberships", sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column("inboxes", sa.Column("is_enabled", sa.Boolean, nullable=False, server_default=sa.true()))
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "password_resets",
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.Column("user_id", big, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", frontdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", frontdesk.store.types.UTCDateTime(), nullable=False),
        sa.Column("used_at", frontdesk.store.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_password_resets_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_resets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_resets_token_hash")),
    )
    op.create_index("ix_password_resets_user", "password_resets", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_password_resets_user", "password_resets")
    op.drop_table("password_resets")
    op.drop_column("inboxes", "is_enabled")
    op.drop_column("memberships", "is_active")
    op.drop_column("memberships", "availability")
    op.drop_column("users", "preferences")
    op.drop_column("users", "avatar_path")
    op.drop_column("users", "display_name")
