"""The channel adapter a job works with: one inbox's settings, secrets and state (decision 0043)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from frontdesk.channels.base import ChannelAdapter, Installation
from frontdesk.channels.registry import adapter_class
from frontdesk.jobs.kinds import JobContext
from frontdesk.store.channel_state import InboxState


def job_adapter(ctx: JobContext, inbox: Mapping[Any, Any], inbox_id: int) -> ChannelAdapter:
    """`inbox` holds the inbox's channel_type, settings and secrets_encrypted. Every job builds
    its adapter here, so each one shares the inbox's state (one cached access token per inbox)."""
    installation = Installation(
        settings=ctx.settings, public_url=ctx.public_url, state=InboxState(ctx.db, ctx.box, inbox_id)
    )
    return adapter_class(inbox["channel_type"])(
        inbox["settings"], ctx.box.open(inbox["secrets_encrypted"]), ctx.http, installation
    )
