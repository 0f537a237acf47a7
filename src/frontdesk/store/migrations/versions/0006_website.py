"""The website channel: visits of website visitors (W2, W3), blocked contacts (W4) and CSAT
ratings.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import frontdesk.store.types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    when = frontdesk.store.types.UTCDateTime
    op.add_column("contacts", sa.Column("blocked_at", when(), nullable=True))
    # SQLite cannot add a constraint to an existing table; there the reference stays unchecked.
    references = (
        []
        if op.get_bind().dialect.name == "sqlite"
        else [sa.ForeignKey("users.id", name=op.f("fk_contacts_blocked_by_id_users"), ondelete="SET NULL")]
    )
    op.add_column("contacts", sa.Column("blocked_by_id", big, *references, nullable=True))
    op.create_table(
        "web_visits",
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.Column("workspace_id", big, nullable=False),
        sa.Column("inbox_id", big, nullable=False),
        sa.Column("contact_id", big, nullable=False),
        sa.Column("identity_id", big, nullable=False),
        sa.Column("started_at", when(), nullable=False),
        sa.Column("last_seen_at", when(), nullable=False),
        sa.Column("left_at", when(), nullable=True),
        sa.Column("ip", sa.String(45), nullable=True),
        sa.Column("country_code", sa.String(2), nullable=True),
        sa.Column("country", sa.String(100), nullable=True),
        sa.Column("city", sa.String(100), nullable=True),
        sa.Column("isp", sa.String(200), nullable=True),
        sa.Column("user_agent", sa.String(500), nullable=True),
        sa.Column("browser", sa.String(100), nullable=True),
        sa.Column("os", sa.String(100), nullable=True),
        sa.Column("device", sa.String(20), nullable=True),
        sa.Column("language", sa.String(20), nullable=True),
        sa.Column("referrer", sa.String(1000), nullable=True),
        sa.Column("source_kind", sa.String(20), nullable=False, server_default="direct"),
        sa.Column("source", sa.String(200), nullable=True),
        sa.Column("utm_source", sa.String(200), nullable=True),
        sa.Column("utm_medium", sa.String(200), nullable=True),
        sa.Column("utm_campaign", sa.String(200), nullable=True),
        sa.Column("landing_url", sa.String(2000), nullable=True),
        sa.Column("current_url", sa.String(2000), nullable=True),
        sa.Column("current_title", sa.String(300), nullable=True),
        sa.Column("page_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("pages", sa.JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_web_visits_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inbox_id"], ["inboxes.id"], name=op.f("fk_web_visits_inbox_id_inboxes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_web_visits_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["contact_identities.id"],
            name=op.f("fk_web_visits_identity_id_contact_identities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_web_visits")),
    )
    op.create_index("ix_web_visits_contact", "web_visits", ["contact_id", "id"])
    op.create_index("ix_web_visits_live", "web_visits", ["inbox_id", "left_at", "last_seen_at"])
    op.create_table(
        "csat_ratings",
        sa.Column("id", big, autoincrement=True, nullable=False),
        sa.Column("workspace_id", big, nullable=False),
        sa.Column("conversation_id", big, nullable=False),
        sa.Column("contact_id", big, nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("comment", sa.Text, nullable=True),
        sa.Column("created_at", when(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_csat_ratings_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_csat_ratings_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_csat_ratings_contact_id_contacts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_csat_ratings")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_csat_ratings_conversation")),
    )
    op.create_index("ix_csat_ratings_workspace", "csat_ratings", ["workspace_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_csat_ratings_workspace", table_name="csat_ratings")
    op.drop_table("csat_ratings")
    op.drop_index("ix_web_visits_live", table_name="web_visits")
    op.drop_index("ix_web_visits_contact", table_name="web_visits")
    op.drop_table("web_visits")
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("blocked_by_id")
        batch.drop_column("blocked_at")
