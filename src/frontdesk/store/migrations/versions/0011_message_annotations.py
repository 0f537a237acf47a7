"""Message annotations: the system's notes about a message (a file left out, a mail not read
whole) as [{"code": …, **params}] beside its text (domain/annotations.py). Existing rows get an
empty list; notes already written into older messages' text stay there as they were.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


# A plain ADD COLUMN, not a batch copy: copying messages on SQLite would drop its search triggers.
def upgrade() -> None:
    op.add_column("messages", sa.Column("annotations", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    op.drop_column("messages", "annotations")
