"""PostgreSQL: each workspace's conversation numbers come from its own sequence,
conversation_numbers_<workspace id>, which starts where the workspace row's counter stood
(docs/decisions/0048-conversation-numbers-from-a-sequence.md). SQLite keeps the row's counter.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    rows = bind.execute(sa.text("SELECT id, next_conversation_number FROM workspaces")).all()
    for workspace_id, next_number in rows:
        name = f"conversation_numbers_{int(workspace_id)}"
        op.execute(f"CREATE SEQUENCE IF NOT EXISTS {name}")
        bind.execute(sa.text("SELECT setval(:name, :next, false)"), {"name": name, "next": next_number})


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    # The row's counter takes over after the highest number in use.
    bind.execute(
        sa.text(
            "UPDATE workspaces SET next_conversation_number = "
            "(SELECT COALESCE(MAX(number), 0) + 1 FROM conversations WHERE workspace_id = workspaces.id)"
        )
    )
    for (workspace_id,) in bind.execute(sa.text("SELECT id FROM workspaces")).all():
        op.execute(f"DROP SEQUENCE IF EXISTS conversation_numbers_{int(workspace_id)}")
