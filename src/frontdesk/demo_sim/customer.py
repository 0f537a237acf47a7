"""DEMO EQUIPMENT: the customer's side — a text sent to an inbox through its simulated provider
(the webhook request the provider makes, over HTTP, to the inbox's real webhook route), and the
registration `frontdesk demo` makes before the server runs."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from frontdesk.channels.base import ChannelError, InboxAddress, Installation
from frontdesk.channels.registry import adapter_class
from frontdesk.demo_sim.base import SIM_PREFIX, Simulator, record
from frontdesk.security import SecretBox
from frontdesk.settings import Settings

__all__ = ["SendFailed", "Upload", "register", "send_as_customer"]

log = logging.getLogger(__name__)
WEBHOOK_SECONDS = 15.0


@dataclass(frozen=True)
class Upload:
    """A file the customer attaches on /demo/customer."""

    name: str
    content_type: str
    data: bytes


class SendFailed(Exception):
    """The provider could not deliver the customer's text; the reason in words."""


async def send_as_customer(
    sim: Simulator, uid: str, name: str, text: str, upload: Upload | None = None
) -> None:
    """Record the customer's line, then deliver it as the provider would; the inbox's answer is
    kept on the webhook's state (getWebhookInfo's last error, where the provider reports one)."""
    key = sim.customer_key(name)
    if upload is not None and not sim.takes_files:
        raise SendFailed(f"the {sim.label} simulator takes text only")
    file = None
    if upload is not None:
        file = await sim.store.keep_file(sim.channel_type, upload.name, upload.content_type, upload.data)
    async with sim.store.edit(sim.channel_type) as state:
        if uid not in state["accounts"] or not state["accounts"][uid].get("webhook_url"):
            raise SendFailed("this inbox has not registered its webhook with the simulator: save it once")
        if file is None:
            call = sim.inbound(state, uid, name, text)
            entry = record(state, uid, key, "customer", text)
        else:
            call = sim.inbound_file(state, uid, name, text, file)
            kind = "image" if file.content_type.startswith("image/") else "file"
            entry = record(state, uid, key, "customer", text, kind=kind, file_name=file.name)
        state["chats"][f"{uid}/{key}"]["name"] = name  # for a provider's profile API
    error = ""
    try:
        async with httpx.AsyncClient(timeout=WEBHOOK_SECONDS) as http:
            answer = await http.post(call.url, content=call.body, headers=dict(call.headers))
        if answer.status_code != 200:
            error = f"the inbox answered HTTP {answer.status_code}: {answer.text[:300]}"
    except httpx.HTTPError as exc:
        error = f"the inbox could not be reached: {type(exc).__name__} {exc}"
    async with sim.store.edit(sim.channel_type) as state:
        account = state["accounts"].get(uid, {})
        account["last_error_message"] = error
        account["last_error_date"] = int(time.time()) if error else None
        if error:
            chat = state["chats"].get(f"{uid}/{key}", {})
            for line in chat.get("entries", []):
                if line["n"] == entry["n"]:
                    line["error"] = error
    if error:
        log.info("demo simulator could not deliver", extra={"channel": sim.channel_type, "error": error})
        raise SendFailed(error)


async def register(settings: Settings, sim: Simulator, row: Mapping[Any, Any], box: SecretBox) -> str | None:
    """The inbox's on_saved, as saving it in the dashboard runs it, with the simulator answering
    in this process (`frontdesk demo` runs before `frontdesk serve`); then what the provider's
    console would know. What failed, or None."""
    app = FastAPI()
    app.include_router(sim.router(), prefix=f"{SIM_PREFIX}/{sim.channel_type}")
    public_url = settings.effective_public_url.rstrip("/")
    webhook_url = f"{public_url}/webhooks/{row['channel_type']}/{row['uid']}"
    secrets = box.open(row["secrets_encrypted"])
    installation = Installation(settings=settings, public_url=public_url)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=10) as http:
        adapter = adapter_class(row["channel_type"])(row["settings"], secrets, http, installation)
        try:
            await adapter.on_saved(InboxAddress(row["id"], row["uid"], webhook_url))
        except ChannelError as exc:
            return f"{exc.code}: {exc.detail}"
    async with sim.store.edit(sim.channel_type) as state:
        sim.console(state, str(row["uid"]), webhook_url, row["settings"], secrets)
    return None
