"""DEMO EQUIPMENT: what every simulated provider shares — the Simulator interface, the state kept
under data_dir/demo-sim/ (one JSON file per channel, so a restarted demo keeps its chats and the
registration `frontdesk demo` made before `frontdesk serve` ran), and the customer's side of a
chat (the transcript /demo/customer shows)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from fastapi import APIRouter, Request

__all__ = [
    "SIM_PREFIX",
    "CustomerFile",
    "DemoInbox",
    "SimStore",
    "Simulator",
    "WebhookCall",
    "chat_of",
    "record",
]

SIM_PREFIX = "/demo/sim"
KEPT_ENTRIES = 200  # per chat; older lines are dropped
TYPING_SECONDS = 6.0  # how long a typing indicator shows (providers show it about 5 s)

State = dict[str, Any]


@dataclass(frozen=True)
class DemoInbox:
    """What `make demo` creates the simulated inbox with."""

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookCall:
    """One request the provider makes to the inbox's webhook."""

    url: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class CustomerFile:
    """A file the customer sends, kept by the simulator under an id of its own."""

    file_id: str
    name: str
    content_type: str
    size: int


class SimStore:
    """The simulators' state, one JSON file per channel; every change is read, made and written
    under one lock (the files are small: a demo's few chats)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = asyncio.Lock()

    def _path(self, channel_type: str) -> Path:
        return self.folder / f"{channel_type}.json"

    async def read(self, channel_type: str) -> State:
        return await asyncio.to_thread(_load, self._path(channel_type))

    def file_path(self, channel_type: str, file_id: str) -> Path | None:
        """Where a customer's file is kept; None for an id that is not one of ours."""
        if not file_id.isalnum():
            return None
        path = self.folder / f"{channel_type}-files" / file_id
        return path if path.is_file() else None

    async def keep_file(self, channel_type: str, name: str, content_type: str, data: bytes) -> CustomerFile:
        file_id = secrets.token_hex(12)
        path = self.folder / f"{channel_type}-files" / file_id
        await asyncio.to_thread(_write_bytes, path, data)
        return CustomerFile(file_id, name, content_type, len(data))

    @contextlib.asynccontextmanager
    async def edit(self, channel_type: str) -> AsyncIterator[State]:
        async with self._lock:
            state = await asyncio.to_thread(_load, self._path(channel_type))
            yield state
            await asyncio.to_thread(_save, self._path(channel_type), state)


def _load(path: Path) -> State:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        loaded = {}
    state: State = loaded if isinstance(loaded, dict) else {}
    state.setdefault("accounts", {})
    state.setdefault("chats", {})
    return state


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _save(path: Path, state: State) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    partial.replace(path)


async def json_body(request: Request) -> dict[str, Any]:
    """A provider API call's JSON object body; {} for anything else (the caller answers it as
    the provider would a missing field)."""
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        body = None
    return body if isinstance(body, dict) else {}


def chat_of(state: State, uid: str, customer_key: str) -> dict[str, Any] | None:
    found = state["chats"].get(f"{uid}/{customer_key}")
    return found if isinstance(found, dict) else None


def record(
    state: State,
    uid: str,
    customer_key: str,
    side: str,
    text: str,
    *,
    kind: str = "text",
    url: str = "",
    file_name: str = "",
) -> dict[str, Any]:
    """A line of a chat as the customer's app shows it: `side` is "customer" or "business"."""
    chat = state["chats"].setdefault(f"{uid}/{customer_key}", {"entries": [], "typing_at": 0.0})
    entries: list[dict[str, Any]] = chat["entries"]
    entry = {
        "n": (entries[-1]["n"] + 1) if entries else 1,
        "side": side,
        "kind": kind,
        "text": text,
        "url": url,
        "file_name": file_name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    entries.append(entry)
    del entries[:-KEPT_ENTRIES]
    if side == "business":
        chat["typing_at"] = 0.0  # the message ends the indicator, as in the apps
    return entry


def typing(state: State, uid: str, customer_key: str) -> None:
    chat = state["chats"].setdefault(f"{uid}/{customer_key}", {"entries": [], "typing_at": 0.0})
    chat["typing_at"] = time.time()


def is_typing(chat: Mapping[str, Any]) -> bool:
    return time.time() - float(chat.get("typing_at") or 0.0) < TYPING_SECONDS


class Simulator(ABC):
    """A provider's side of one channel, for the demo (see demo_sim/__init__.py)."""

    channel_type: ClassVar[str]
    label: ClassVar[str]
    takes_files: ClassVar[bool] = False  # whether inbound_file is there

    def __init__(self, store: SimStore, base_url: str) -> None:
        self.store = store
        self.base_url = base_url.rstrip("/")  # <public url>/demo/sim/<channel>

    @abstractmethod
    def demo_inbox(self) -> DemoInbox: ...

    @abstractmethod
    def router(self) -> APIRouter:
        """The provider's API; served under SIM_PREFIX/<channel_type>."""

    @abstractmethod
    def customer_key(self, name: str) -> str:
        """The customer's id at the provider (the chat's id), the same for the same name."""

    @abstractmethod
    def inbound(self, state: State, uid: str, name: str, text: str) -> WebhookCall:
        """The webhook request for a customer's text, as the provider makes and signs it; the
        caller has recorded the line already."""

    def inbound_file(self, state: State, uid: str, name: str, text: str, file: CustomerFile) -> WebhookCall:
        """The webhook request for a customer's file (with `text` as its caption), where the
        simulator serves files back through the provider's media API (takes_files)."""
        raise NotImplementedError

    @abstractmethod
    def is_wired(self) -> bool:
        """Whether the channel's provider address setting points at this simulator."""

    def console(
        self,
        state: State,
        uid: str,
        webhook_url: str,
        settings: Mapping[str, Any],
        secrets: Mapping[str, Any],
    ) -> None:
        """What the provider learns from its console, not from an API call (nothing by default):
        the inbox's webhook address, settings and secrets as the administrator entered them."""
        return
