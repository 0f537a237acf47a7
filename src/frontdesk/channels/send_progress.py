"""How far one reply's sending got, for providers that take no idempotency key (WeChat,
Telegram): a reply sent as several messages records each part before and after its call in the
inbox's state (store/channel_state.py), so

- a retried reply sends only the parts not yet delivered, and
- a part whose call was cut off (the worker was killed while the provider was being called) is
  not sent again on its own, since the provider may have delivered it: the reply fails saying so,
  and the agent may send it again on purpose (which starts afresh).

The record is {"done": parts delivered, "sending": whether a call for the next one was under
way, "receipt": the source id of the first part}; it is gone once every part is delivered.
"""

from __future__ import annotations

from datetime import timedelta

import orjson

from frontdesk.channels.base import ChannelError
from frontdesk.domain.enums import FailureReason
from frontdesk.store.channel_state import InboxState
from frontdesk.store.types import utcnow

__all__ = ["SendProgress"]


class SendProgress:
    KEEP = timedelta(days=3)

    def __init__(self, state: InboxState | None, message_id: int, provider: str) -> None:
        self.state = state
        self.key = f"send:{message_id}"
        self.provider = provider
        self.receipt: str | None = None  # the first part's source id, kept across attempts

    async def start(self) -> int:
        """The number of parts already delivered; raises if an earlier call was cut off."""
        if self.state is None:
            return 0
        found = await self.state.get(self.key)
        if found is None:
            return 0
        record = orjson.loads(found.value)
        if record.get("sending"):
            # Cut off mid-call: forget it (the agent's "send again" starts afresh) and refuse.
            await self.state.delete(self.key)
            raise ChannelError(
                FailureReason.INTERNAL_ERROR,
                f"an earlier attempt was cut off while {self.provider} was being called, so "
                f"{self.provider} may have delivered it; it is not sent again on its own (send it "
                "again if the customer did not get it)",
                retryable=False,
            )
        receipt = record.get("receipt")
        self.receipt = receipt if isinstance(receipt, str) else None
        return int(record.get("done", 0))

    async def _put(self, done: int, sending: bool) -> None:
        if self.state is not None:
            value = orjson.dumps({"done": done, "sending": sending, "receipt": self.receipt}).decode()
            await self.state.put(self.key, value, utcnow() + self.KEEP)

    async def sending(self, index: int) -> None:
        await self._put(index, True)

    async def failed(self, index: int) -> None:
        """The call was answered with a refusal: nothing of this part was delivered."""
        if index:
            await self._put(index, False)
        elif self.state is not None:
            await self.state.delete(self.key)

    async def sent(self, index: int, *, last: bool, source_id: str | None = None) -> None:
        if index == 0:
            self.receipt = source_id
        if last and self.state is not None:
            await self.state.delete(self.key)
        elif not last:
            await self._put(index + 1, False)
