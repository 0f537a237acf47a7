"""`/widget/preview/<inbox uid>`: a stand-in web page that embeds a website inbox's widget, so an
administrator (or someone trying `make demo`) can chat as a visitor without a site of their own.

It shows nothing that the snippet does not already make public: the inbox's uid and name.
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from frontdesk.domain.errors import NotFound
from frontdesk.http.deps import Svc
from frontdesk.i18n import RTL, preferred_locale, translate

router = APIRouter(include_in_schema=False)


@router.get("/widget/preview/{inbox_uid}", response_class=HTMLResponse)
async def preview(inbox_uid: str, request: Request, svc: Svc) -> HTMLResponse:
    cached = await svc.inboxes.get("web", inbox_uid)
    if cached is None:
        raise NotFound("no website inbox at this address", field="inbox")
    locale = preferred_locale(request.headers.get("accept-language"))
    name = str(cached.row["name"])
    title = html.escape(translate(locale, "preview.title", inbox=name))
    body = html.escape(translate(locale, "preview.body", inbox=name))
    direction = "rtl" if locale in RTL else "ltr"
    page = (
        f'<!doctype html><html lang="{locale}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>body{{font:16px/1.6 system-ui,sans-serif;max-width:40rem;"
        "margin:4rem auto;padding:0 1rem;color:#1f2328}</style></head>"
        f"<body><h1>{title}</h1><p>{body}</p>"
        f'<script async src="/widget.js" data-inbox="{html.escape(inbox_uid)}"></script></body></html>'
    )
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})
