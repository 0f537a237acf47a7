"""The sample channel: a provider that signs with a shared token header, verifies its webhook
with a GET challenge, and takes replies at a URL. Test equipment only."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import orjson
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from frontdesk.channels.base import (
    ChannelAdapter,
    ChannelRouter,
    HandshakeReply,
    Outbound,
    ProviderReceipt,
    WebhookRejected,
    WebhookRequest,
)
from frontdesk.domain.inbound import InboundContact, InboundEvent, InboundMessage, InboundUnknown
from frontdesk.jobs.kinds import JobContext, JobKind
from frontdesk.security import same_secret

if TYPE_CHECKING:
    from frontdesk.services import Services

SENT: list[Outbound] = []  # what the worker handed to send(), in this process
JOBS_RUN: list[dict[str, Any]] = []
ping = APIRouter()


@ping.get("/sample/ping")
async def answer_ping() -> dict[str, str]:
    return {"channel": "sample"}


class SampleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    greeting: str = Field(default="hello", max_length=50, description="Anything.")


async def run_sample_job(ctx: JobContext, payload: dict[str, Any]) -> None:
    JOBS_RUN.append(payload)


@contextlib.asynccontextmanager
async def sample_service(services: Services) -> AsyncIterator[None]:
    services.running_services["sample.service"] = "running"
    try:
        yield
    finally:
        services.running_services.pop("sample.service", None)


class SampleAdapter(ChannelAdapter):
    channel_type = "sample"
    settings_schema = SampleSettings
    secret_fields = ("token",)
    secret_descriptions: ClassVar[Mapping[str, str]] = {"token": "Shared with the provider."}

    @classmethod
    def generated_secrets(cls) -> dict[str, str]:
        return {"token": "sample-token"}

    @classmethod
    def routers(cls) -> Sequence[ChannelRouter]:
        return [ChannelRouter(ping)]

    @classmethod
    def background(
        cls, services: Services, *, with_worker: bool
    ) -> Sequence[contextlib.AbstractAsyncContextManager[object]]:
        return [sample_service(services)]

    @classmethod
    def job_kinds(cls) -> Mapping[str, JobKind]:
        return {"sample_job": JobKind(run_sample_job)}

    def handshake(self, request: WebhookRequest) -> HandshakeReply:
        if not same_secret(self.secrets["token"], request.query.get("token", "")):
            raise WebhookRejected("wrong token")
        return HandshakeReply(request.query.get("challenge", ""))

    def verify(self, request: WebhookRequest) -> None:
        if not same_secret(self.secrets["token"], request.headers.get("x-sample-token", "")):
            raise WebhookRejected("wrong token")

    def parse(self, request: WebhookRequest) -> list[InboundEvent]:
        events: list[InboundEvent] = []
        for item in orjson.loads(request.body)["events"]:
            if item["kind"] == "text":
                events.append(
                    InboundMessage(
                        source_id=item["id"],
                        contact=InboundContact(source_id=item["from"]),
                        text=item["text"],
                    )
                )
            else:
                events.append(InboundUnknown(kind=item["kind"]))
        return events

    async def send(self, outbound: Outbound) -> ProviderReceipt:
        SENT.append(outbound)
        return ProviderReceipt(source_id=f"sample-{outbound.message_id}")
