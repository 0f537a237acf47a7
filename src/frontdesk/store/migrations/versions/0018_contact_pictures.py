"""contacts.avatar_path: the contact's profile picture from its channel (LINE, WeChat), copied
into the attachments folder by the fetch_profile job and served at /files/contact-avatars/….

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("avatar_path", sa.String(300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("avatar_path")
