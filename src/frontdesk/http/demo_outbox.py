"""`/demo/outbox`: the mails the demo's capturing relay kept (frontdesk/demo_relay.py). Mounted
only when that relay runs, which the settings allow in dev mode only."""

from __future__ import annotations

import asyncio
import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from frontdesk.demo_relay import DEMO_RELAY_HOST, CapturedMail, outbox_dir, read_outbox
from frontdesk.http.deps import Svc
from frontdesk.i18n import RTL, preferred_locale, translate

router = APIRouter(include_in_schema=False)

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:56rem;margin:2rem auto;padding:0 1rem;"
    "color:#1f2328}article{border:1px solid #d0d7de;border-radius:8px;padding:.75rem 1rem;"
    "margin:1rem 0}dl{display:grid;grid-template-columns:max-content 1fr;gap:.1rem 1rem;margin:0}"
    "dt{color:#59636e}dd{margin:0}pre{white-space:pre-wrap;background:#f6f8fa;padding:.75rem;"
    "border-radius:6px;margin:.75rem 0 0}"
)


def _mail(locale: str, mail: CapturedMail) -> str:
    rows = [
        ("demo_outbox.date", mail.captured_at.strftime("%Y-%m-%d %H:%M:%S UTC")),
        ("demo_outbox.from", mail.from_),
        ("demo_outbox.to", mail.to),
        ("demo_outbox.cc", mail.cc),
        ("demo_outbox.recipients", ", ".join(mail.envelope_to)),
        ("demo_outbox.subject", mail.subject),
    ]
    items = "".join(
        f'<dt>{html.escape(translate(locale, key))}</dt><dd dir="auto">{html.escape(value)}</dd>'
        for key, value in rows
        if value
    )
    return f'<article><dl>{items}</dl><pre dir="auto">{html.escape(mail.text)}</pre></article>'


@router.get("/demo/outbox", response_class=HTMLResponse)
async def outbox(request: Request, svc: Svc) -> HTMLResponse:
    settings = svc.settings
    mails = await asyncio.to_thread(read_outbox, outbox_dir(settings))
    locale = preferred_locale(request.headers.get("accept-language"))
    title = html.escape(translate(locale, "demo_outbox.title"))
    address = f"{DEMO_RELAY_HOST}:{settings.demo_relay_port}"
    intro = html.escape(translate(locale, "demo_outbox.intro", address=address))
    listing = "".join(_mail(locale, mail) for mail in mails) or (
        f"<p>{html.escape(translate(locale, 'demo_outbox.empty'))}</p>"
    )
    direction = "rtl" if locale in RTL else "ltr"
    page = (
        f'<!doctype html><html lang="{locale}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{title}</h1><p>{intro}</p>{listing}</body></html>"
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
