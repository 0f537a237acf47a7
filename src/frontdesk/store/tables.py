"""Every table, as SQLAlchemy Core. Indexes follow the list, thread and search queries."""

from __future__ import annotations

import sqlalchemy as sa

from frontdesk.store.types import BigId, UTCDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, primary_key=True, autoincrement=True)


def _fk(name: str, target: str, *, nullable: bool = False, ondelete: str = "CASCADE") -> sa.Column[int]:
    return sa.Column(name, BigId, sa.ForeignKey(target, ondelete=ondelete), nullable=nullable)


def _created() -> sa.Column[object]:
    return sa.Column("created_at", UTCDateTime(), nullable=False)


workspaces = sa.Table(
    "workspaces",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("next_conversation_number", sa.Integer, nullable=False, server_default="1"),
    _created(),
    # E1: the workspace's label in hosted email addresses, <name>@<mail_slug>.<mail domain>.
    sa.Column("mail_slug", sa.String(63), nullable=True, unique=True),
)

users = sa.Table(
    "users",
    metadata,
    _id(),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("email_lower", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=True),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("locale", sa.String(10), nullable=False, server_default="en"),
    _created(),
    sa.Column("display_name", sa.String(200), nullable=True),
    sa.Column("avatar_path", sa.String(300), nullable=True),
    sa.Column("preferences", sa.JSON, nullable=False, server_default="{}"),
)

memberships = sa.Table(
    "memberships",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    _fk("user_id", "users.id"),
    sa.Column("role", sa.String(20), nullable=False),
    _created(),
    sa.UniqueConstraint("workspace_id", "user_id", name="uq_memberships_workspace_user"),
    sa.Index("ix_memberships_user", "user_id"),
    sa.Column("availability", sa.String(20), nullable=False, server_default="online"),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
)

password_resets = sa.Table(
    "password_resets",
    metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.Index("ix_password_resets_user", "user_id"),
)

sessions = sa.Table(
    "sessions",
    metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    _created(),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

api_tokens = sa.Table(
    "api_tokens",
    metadata,
    _id(),
    _fk("user_id", "users.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
)

invitations = sa.Table(
    "invitations",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _fk("invited_by", "users.id", nullable=True, ondelete="SET NULL"),
    _created(),
    sa.Column("accepted_at", UTCDateTime(), nullable=True),
)

teams = sa.Table(
    "teams",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("name", sa.String(200), nullable=False),
    _created(),
    sa.UniqueConstraint("workspace_id", "name", name="uq_teams_workspace_name"),
)

team_members = sa.Table(
    "team_members",
    metadata,
    _fk("team_id", "teams.id"),
    _fk("user_id", "users.id"),
    sa.PrimaryKeyConstraint("team_id", "user_id"),
)

inboxes = sa.Table(
    "inboxes",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("channel_type", sa.String(40), nullable=False),
    # The public identifier in webhook URLs: not a secret (secrets never travel in URLs).
    sa.Column("uid", sa.String(40), nullable=False, unique=True),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("secrets_encrypted", sa.Text, nullable=False),
    _created(),
    sa.Index("ix_inboxes_workspace", "workspace_id"),
    sa.Column("is_enabled", sa.Boolean, nullable=False, server_default=sa.true()),
)

inbox_members = sa.Table(
    "inbox_members",
    metadata,
    _fk("inbox_id", "inboxes.id"),
    _fk("user_id", "users.id"),
    sa.PrimaryKeyConstraint("inbox_id", "user_id"),
    sa.Index("ix_inbox_members_user", "user_id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("phone", sa.String(40), nullable=True),
    sa.Column("attributes", sa.JSON, nullable=False),
    _created(),
    sa.Index("ix_contacts_workspace_id", "workspace_id", "id"),
    sa.Index("ix_contacts_workspace_email", "workspace_id", "email"),
    sa.Index("ix_contacts_workspace_email_lower", "workspace_id", sa.func.lower(sa.column("email"))),
    # W4: a blocked contact's widget can no longer start chats or send messages.
    sa.Column("blocked_at", UTCDateTime(), nullable=True),
    _fk("blocked_by_id", "users.id", nullable=True, ondelete="SET NULL"),
    # The channel's profile picture, copied into the attachments folder (jobs/profiles.py).
    sa.Column("avatar_path", sa.String(300), nullable=True),
)

contact_identities = sa.Table(
    "contact_identities",
    metadata,
    _id(),
    _fk("contact_id", "contacts.id"),
    _fk("inbox_id", "inboxes.id"),
    sa.Column("source_id", sa.String(255), nullable=False),
    _created(),
    sa.UniqueConstraint("inbox_id", "source_id", name="uq_contact_identities_inbox_source"),
    sa.Index("ix_contact_identities_contact", "contact_id"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("number", sa.Integer, nullable=False),
    _fk("inbox_id", "inboxes.id"),
    _fk("contact_id", "contacts.id"),
    _fk("identity_id", "contact_identities.id"),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("snoozed_until", UTCDateTime(), nullable=True),
    _fk("assignee_id", "users.id", nullable=True, ondelete="SET NULL"),
    _fk("team_id", "teams.id", nullable=True, ondelete="SET NULL"),
    sa.Column("priority", sa.String(20), nullable=False, server_default="none"),
    sa.Column("last_activity_at", UTCDateTime(), nullable=False),
    sa.Column("waiting_since", UTCDateTime(), nullable=True),
    sa.Column("first_reply_at", UTCDateTime(), nullable=True),
    sa.Column("first_reply_seconds", sa.Integer, nullable=True),
    sa.Column("last_message_preview", sa.String(200), nullable=False, server_default=""),
    sa.Column("unread_count", sa.Integer, nullable=False, server_default="0"),
    # Label names, kept beside conversation_labels (the filter) so a list row needs no join.
    sa.Column("labels", sa.JSON, nullable=False),
    # The reply window (decision 0039): the provider's time of the customer's last message (our
    # receive time where the provider gives none) and the agent replies sent since it.
    sa.Column("customer_last_at", UTCDateTime(), nullable=True),
    sa.Column("replies_since_customer", sa.Integer, nullable=False, server_default="0"),
    # The customer unfollowed or blocked the account (migration 0016): replies cannot reach them.
    sa.Column("customer_left_at", UTCDateTime(), nullable=True),
    _created(),
    sa.UniqueConstraint("workspace_id", "number", name="uq_conversations_workspace_number"),
    # List queries: filter by status (and inbox or assignee), newest activity first, keyset on id.
    sa.Index("ix_conversations_ws_status_activity", "workspace_id", "status", "last_activity_at", "id"),
    sa.Index("ix_conversations_ws_activity", "workspace_id", "last_activity_at", "id"),
    sa.Index("ix_conversations_inbox_status_activity", "inbox_id", "status", "last_activity_at", "id"),
    sa.Index("ix_conversations_assignee_status_activity", "assignee_id", "status", "last_activity_at", "id"),
    sa.Index("ix_conversations_team_status_activity", "team_id", "status", "last_activity_at", "id"),
    # Ingest: the newest conversation of an identity.
    sa.Index("ix_conversations_identity", "identity_id", "id"),
    sa.Index("ix_conversations_contact", "contact_id"),
)

participants = sa.Table(
    "participants",
    metadata,
    _fk("conversation_id", "conversations.id"),
    _fk("user_id", "users.id"),
    _created(),
    sa.PrimaryKeyConstraint("conversation_id", "user_id"),
)

labels = sa.Table(
    "labels",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("color", sa.String(7), nullable=False, server_default="#6b7280"),
    _created(),
    sa.UniqueConstraint("workspace_id", "name", name="uq_labels_workspace_name"),
)

conversation_labels = sa.Table(
    "conversation_labels",
    metadata,
    _fk("conversation_id", "conversations.id"),
    _fk("label_id", "labels.id"),
    # Copies of the conversation's status and last activity, kept in step by
    # do_update_conversation, so the label filter walks its own index newest first.
    sa.Column("status", sa.String(20), nullable=False, server_default="open"),
    sa.Column("last_activity_at", UTCDateTime(), nullable=False, server_default="1970-01-01 00:00:00"),
    sa.PrimaryKeyConstraint("conversation_id", "label_id"),
    sa.Index("ix_conversation_labels_label", "label_id", "conversation_id"),
    sa.Index(
        "ix_conversation_labels_label_status_activity",
        "label_id",
        "status",
        "last_activity_at",
        "conversation_id",
    ),
    sa.Index("ix_conversation_labels_label_activity", "label_id", "last_activity_at", "conversation_id"),
)

messages = sa.Table(
    "messages",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    _fk("conversation_id", "conversations.id"),
    _fk("inbox_id", "inboxes.id"),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("sender_type", sa.String(20), nullable=False),
    sa.Column("sender_id", BigId, nullable=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("content_type", sa.String(40), nullable=False, server_default="text"),
    sa.Column("source_id", sa.String(255), nullable=True),
    sa.Column("delivery_status", sa.String(20), nullable=True),
    sa.Column("failure_reason", sa.Text, nullable=True),  # a FailureReason code
    sa.Column("failure_detail", sa.Text, nullable=True),  # the provider's own words, untranslated
    sa.Column("delivery_attempts", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Column("next_attempt_at", UTCDateTime(), nullable=True),  # set while waiting to retry
    # Set while an attempt is out to the provider: a cancel then comes too late.
    sa.Column("attempt_started_at", UTCDateTime(), nullable=True),
    sa.Column("data", sa.JSON, nullable=False),
    # domain/annotations.py: [{"code": …, **params}], the system's notes about the message.
    sa.Column("annotations", sa.JSON, nullable=False, server_default="[]"),
    # The author's idempotency key (an agent's client_id / Idempotency-Key): a retried post finds
    # the message its first attempt stored. Unique per conversation and author.
    sa.Column("client_id", sa.String(100), nullable=True),
    _created(),
    sa.UniqueConstraint("inbox_id", "source_id", name="uq_messages_inbox_source"),
    sa.Index("ix_messages_conversation", "conversation_id", "id"),
    sa.Index("uq_messages_client", "conversation_id", "sender_type", "sender_id", "client_id", unique=True),
)

attachments = sa.Table(
    "attachments",
    metadata,
    _id(),
    _fk("message_id", "messages.id"),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("path", sa.String(500), nullable=False),
    _created(),
    sa.Index("ix_attachments_message", "message_id"),
)

canned_responses = sa.Table(
    "canned_responses",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("short_code", sa.String(60), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    _created(),
    sa.UniqueConstraint("workspace_id", "short_code", name="uq_canned_responses_workspace_code"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    sa.Column("actor_id", BigId, nullable=True),
    sa.Column("action", sa.String(60), nullable=False),
    sa.Column("target_type", sa.String(40), nullable=False),
    sa.Column("target_id", BigId, nullable=True),
    sa.Column("data", sa.JSON, nullable=False),
    _created(),
    sa.Index("ix_audit_events_workspace", "workspace_id", "id"),
)

# Tab counts (Inbox / Mine / Unassigned) kept as counters, one row per inbox, assignee, status.
# assignee_id 0 means unassigned so the key has no NULL in it.
conversation_counts = sa.Table(
    "conversation_counts",
    metadata,
    sa.Column("workspace_id", BigId, nullable=False),
    sa.Column("inbox_id", BigId, nullable=False),
    sa.Column("assignee_id", BigId, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("inbox_id", "assignee_id", "status"),
    sa.Index("ix_conversation_counts_workspace", "workspace_id"),
)

# The change log and outbox: one row per event, written with the change; its id is the sequence
# a reconnecting client resumes from.
events = sa.Table(
    "events",
    metadata,
    sa.Column("seq", BigId, primary_key=True, autoincrement=True),
    sa.Column("workspace_id", BigId, nullable=False),
    sa.Column("inbox_id", BigId, nullable=True),
    sa.Column("type", sa.String(60), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    _created(),
    sa.Index("ix_events_workspace_seq", "workspace_id", "seq"),
)

# The provider event ids each inbox took (webhook delivery ids, update ids): a repeated delivery
# finds its id here and stores nothing. Kept a week (jobs/maintenance.py): providers retry for
# hours, not days.
inbound_events = sa.Table(
    "inbound_events",
    metadata,
    _fk("inbox_id", "inboxes.id"),
    sa.Column("event_id", sa.String(255), nullable=False),
    _created(),
    sa.PrimaryKeyConstraint("inbox_id", "event_id", name="pk_inbound_events"),
    sa.Index("ix_inbound_events_created", "created_at"),
)

# What a channel keeps for an inbox between calls, shared by every process (a provider's access
# token and when it expires, a QR code's ticket): one value per (inbox, key), encrypted at rest
# with the installation's secret box (store/channel_state.py, decision 0043).
channel_state = sa.Table(
    "channel_state",
    metadata,
    _fk("inbox_id", "inboxes.id"),
    sa.Column("key", sa.String(100), nullable=False),
    sa.Column("value_encrypted", sa.Text, nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint("inbox_id", "key", name="pk_channel_state"),
)

jobs = sa.Table(
    "jobs",
    metadata,
    _id(),
    sa.Column("kind", sa.String(60), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("run_at", UTCDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("locked_until", UTCDateTime(), nullable=True),
    sa.Column("locked_by", sa.String(100), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _created(),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Index("ix_jobs_status_run_at", "status", "run_at"),
    sa.Index("ix_jobs_status_locked_until", "status", "locked_until"),
)

# W2: one row per visit of a website visitor (a visit ends after 30 idle minutes); what the
# contact panel shows and what the live visitors page lists.
web_visits = sa.Table(
    "web_visits",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    _fk("inbox_id", "inboxes.id"),
    _fk("contact_id", "contacts.id"),
    _fk("identity_id", "contact_identities.id"),
    sa.Column("started_at", UTCDateTime(), nullable=False),
    sa.Column("last_seen_at", UTCDateTime(), nullable=False),
    # Set when the visitor's last widget socket closed; cleared when one opens again.
    sa.Column("left_at", UTCDateTime(), nullable=True),
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
    # [{"url", "title", "at"}], oldest first, the latest 50 kept.
    sa.Column("pages", sa.JSON, nullable=False),
    sa.Index("ix_web_visits_contact", "contact_id", "id"),
    sa.Index("ix_web_visits_live", "inbox_id", "left_at", "last_seen_at"),
)

# CSAT (PRODUCT W1): the visitor's rating of a resolved conversation, one per conversation.
csat_ratings = sa.Table(
    "csat_ratings",
    metadata,
    _id(),
    _fk("workspace_id", "workspaces.id"),
    _fk("conversation_id", "conversations.id"),
    _fk("contact_id", "contacts.id"),
    sa.Column("rating", sa.SmallInteger, nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    _created(),
    sa.UniqueConstraint("conversation_id", name="uq_csat_ratings_conversation"),
    sa.Index("ix_csat_ratings_workspace", "workspace_id", "created_at"),
)

# The email template of an email inbox (E5): one per inbox, its checked fields as JSON
# (domain/email/template.py), the uploaded header image under the attachments folder.
email_templates = sa.Table(
    "email_templates",
    metadata,
    _id(),
    _fk("inbox_id", "inboxes.id"),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("header_image_path", sa.String(200), nullable=True),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    _fk("updated_by_id", "users.id", nullable=True, ondelete="SET NULL"),
    sa.UniqueConstraint("inbox_id", name="uq_email_templates_inbox"),
)

# Where the IMAP import of an own-server email inbox stands (E3): the folder's UIDVALIDITY and
# the last imported UID (advanced in the transaction that stores the message), the lease that
# lets one worker process poll the inbox, and the last error with its stage for the admin.
imap_states = sa.Table(
    "imap_states",
    metadata,
    sa.Column("inbox_id", BigId, sa.ForeignKey("inboxes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("folder", sa.String(200), nullable=False),
    sa.Column("uidvalidity", sa.BigInteger, nullable=True),
    sa.Column("last_uid", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("imported_count", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("idle_supported", sa.Boolean, nullable=True),
    sa.Column("lease_owner", sa.String(200), nullable=True),
    sa.Column("lease_until", UTCDateTime(), nullable=True),
    sa.Column("last_checked_at", UTCDateTime(), nullable=True),
    sa.Column("last_error_stage", sa.String(20), nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("last_error_at", UTCDateTime(), nullable=True),
)
