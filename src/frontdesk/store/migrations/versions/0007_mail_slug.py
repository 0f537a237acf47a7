"""Hosted email addresses (E1): each workspace gets a mail slug, the label of its addresses
`<name>@<mail_slug>.<mail domain>`, filled here from the name for existing workspaces.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from frontdesk.domain.email.addresses import slug_candidates

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("mail_slug", sa.String(63), nullable=True))
        batch.create_unique_constraint(op.f("uq_workspaces_mail_slug"), ["mail_slug"])
    conn = op.get_bind()
    workspaces = sa.table("workspaces", sa.column("id"), sa.column("name"), sa.column("mail_slug"))
    taken: set[str] = set()
    for workspace_id, name in conn.execute(sa.select(workspaces.c.id, workspaces.c.name).order_by("id")):
        slug = next(
            (s for s in slug_candidates(name, workspace_id) if s not in taken),
            f"workspace-{workspace_id}",
        )
        taken.add(slug)
        conn.execute(workspaces.update().where(workspaces.c.id == workspace_id).values(mail_slug=slug))


def downgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_constraint(op.f("uq_workspaces_mail_slug"), type_="unique")
        batch.drop_column("mail_slug")
