"""`/demo/customer`: write as a customer of the demo's simulated inboxes and see the agent's
replies arrive (the page asks for the chat every second). Demo equipment (frontdesk/demo_sim/),
mounted with the simulated providers' own routes only when FRONTDESK_DEMO_SIMULATED_CHANNELS is
set, which the settings allow in dev mode only."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from frontdesk.demo_sim.base import SIM_PREFIX, Simulator, chat_of, is_typing
from frontdesk.demo_sim.customer import SendFailed, Upload, send_as_customer
from frontdesk.demo_sim.registry import simulators
from frontdesk.http.deps import Svc
from frontdesk.i18n import RTL, preferred_locale, translate
from frontdesk.settings import Settings
from frontdesk.store import tables as t

__all__ = ["routers"]

# A customer's file travels as base64 inside the JSON body, within the body limit's 1 MiB.
FILE_BYTES = 700_000
FILE_BASE64_CHARS = (FILE_BYTES + 2) // 3 * 4

_STYLE = (
    "body{font:15px/1.5 system-ui,sans-serif;max-width:44rem;margin:2rem auto;padding:0 1rem;"
    "color:#1f2328}label{display:block;margin:.5rem 0 .2rem;color:#59636e}select,input,textarea{"
    "font:inherit;width:100%;box-sizing:border-box;padding:.4rem;border:1px solid #d0d7de;"
    "border-radius:6px}button{font:inherit;margin-top:.5rem;padding:.4rem 1.2rem;border:0;"
    "border-radius:6px;background:#1f6feb;color:#fff;cursor:pointer}#chat{border:1px solid #d0d7de;"
    "border-radius:8px;padding:.75rem;margin:1rem 0;min-height:8rem;background:#f6f8fa}"
    ".line{max-width:80%;margin:.3rem 0;padding:.4rem .7rem;border-radius:10px;white-space:pre-wrap}"
    ".customer{margin-inline-start:auto;background:#dbeafe}.business{background:#fff;"
    "border:1px solid #d0d7de}.error{color:#cf222e;font-size:.85em}.who{font-size:.75em;"
    "color:#59636e}.sim{display:inline-block;background:#fff8c5;border:1px solid #d4a72c;"
    "border-radius:6px;padding:0 .4rem;font-size:.85em}"
)

_SCRIPT = """
const T = JSON.parse(document.getElementById('texts').textContent);
const form = document.getElementById('write'), chat = document.getElementById('chat');
const inbox = document.getElementById('inbox'), who = document.getElementById('name');
const text = document.getElementById('text'), note = document.getElementById('note');
const attach = document.getElementById('attach');
let shown = '';
function line(entry) {
  const div = document.createElement('div');
  div.className = 'line ' + entry.side;
  div.dataset.testid = 'demo-line-' + entry.side;
  const label = document.createElement('div');
  label.className = 'who';
  label.textContent = entry.side === 'customer' ? T.you : T.business;
  const body = document.createElement('div');
  body.dir = 'auto';
  body.textContent = entry.text;
  div.append(label, body);
  if (entry.file_name) {
    const file = document.createElement('div');
    file.className = 'who';
    file.textContent = T.file + ': ' + entry.file_name;
    div.append(file);
  }
  if (entry.url) {
    const link = document.createElement('a');
    link.href = entry.url; link.textContent = T.file; link.target = '_blank';
    div.append(link);
  }
  if (entry.error) {
    const error = document.createElement('div');
    error.className = 'error';
    error.textContent = T.failed.replace('{reason}', entry.error);
    div.append(error);
  }
  return div;
}
async function refresh() {
  if (!inbox.value || !who.value.trim()) return;
  const query = new URLSearchParams({inbox: inbox.value, name: who.value.trim()});
  const answer = await fetch('/demo/customer/chat?' + query, {cache: 'no-store'});
  if (!answer.ok) return;
  const data = await answer.json();
  const key = JSON.stringify(data);
  if (key === shown) return;
  shown = key;
  chat.replaceChildren(...data.entries.map(line));
  if (!data.entries.length) chat.textContent = T.empty;
  note.textContent = data.typing ? T.typing : '';
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const chosen = attach && attach.files[0];
  if ((!text.value.trim() && !chosen) || !who.value.trim()) return;
  const body = {inbox: inbox.value, name: who.value.trim(), text: text.value};
  if (chosen) {
    if (chosen.size > T.max_bytes) { note.textContent = T.too_big; return; }
    const bytes = new Uint8Array(await chosen.arrayBuffer());
    let binary = '';
    for (let i = 0; i < bytes.length; i += 8192) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 8192));
    }
    body.file = {name: chosen.name, type: chosen.type || 'application/octet-stream', data: btoa(binary)};
  }
  const answer = await fetch('/demo/customer/send', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body)});
  if (answer.ok) { text.value = ''; if (attach) attach.value = ''; }
  await refresh();
});
text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});
function files() {
  const option = inbox.selectedOptions[0];
  document.getElementById('files').hidden = !option || option.dataset.files !== '1';
}
inbox.addEventListener('change', () => { files(); refresh(); });
files();
who.addEventListener('change', refresh);
refresh();
setInterval(refresh, 1000);
"""


class CustomerFileIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(default="application/octet-stream", max_length=200)
    data: str = Field(max_length=FILE_BASE64_CHARS)  # base64


class CustomerText(BaseModel):
    inbox: str = Field(max_length=200)  # "<channel type>/<inbox uid>"
    name: str = Field(min_length=1, max_length=64)
    text: str = Field(default="", max_length=4000)
    file: CustomerFileIn | None = None


def routers(settings: Settings) -> list[APIRouter]:
    """The page and the simulated providers' APIs (each under /demo/sim/<channel>)."""
    sims = simulators(settings)
    page = APIRouter(include_in_schema=False)

    def pick(key: str) -> tuple[Simulator, str] | None:
        channel, _, uid = key.partition("/")
        sim = sims.get(channel)
        return (sim, uid) if sim is not None and uid else None

    @page.get("/demo/customer", response_class=HTMLResponse)
    async def customer_page(request: Request, svc: Svc) -> HTMLResponse:
        locale = preferred_locale(request.headers.get("accept-language"))
        return HTMLResponse(await _page(svc, sims, locale), headers={"Cache-Control": "no-store"})

    @page.post("/demo/customer/send")
    async def send(body: CustomerText) -> Response:
        picked = pick(body.inbox)
        if picked is None:
            return JSONResponse({"ok": False, "error": "no such simulated inbox"}, status_code=404)
        upload = None
        if body.file is not None:
            try:
                data = base64.b64decode(body.file.data, validate=True)
            except ValueError:
                return JSONResponse({"ok": False, "error": "file: not base64"}, status_code=422)
            upload = Upload(body.file.name, body.file.type or "application/octet-stream", data)
        elif not body.text.strip():
            return JSONResponse({"ok": False, "error": "write a text or attach a file"}, status_code=422)
        try:
            await send_as_customer(picked[0], picked[1], body.name, body.text, upload)
        except SendFailed as exc:
            return JSONResponse({"ok": False, "error": str(exc)}, status_code=502)
        return JSONResponse({"ok": True})

    @page.get("/demo/customer/chat")
    async def chat(inbox: str, name: str) -> Response:
        picked = pick(inbox)
        if picked is None:
            return JSONResponse({"entries": [], "typing": False}, status_code=404)
        sim, uid = picked
        state = await sim.store.read(sim.channel_type)
        found = chat_of(state, uid, sim.customer_key(name))
        entries = found["entries"] if found else []
        answer = {"entries": entries, "typing": bool(found and is_typing(found))}
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    routes = [page]
    for sim in sims.values():
        api = APIRouter(include_in_schema=False)
        api.include_router(sim.router(), prefix=f"{SIM_PREFIX}/{sim.channel_type}")
        routes.append(api)
    return routes


async def _inboxes(svc: Svc, sims: dict[str, Simulator]) -> list[tuple[str, str, bool]]:
    """(value, label, takes files) of each inbox a simulator feeds: the ones registered with it."""
    registered: dict[str, Simulator] = {}
    for sim in sims.values():
        state = await sim.store.read(sim.channel_type)
        for uid, account in state["accounts"].items():
            if isinstance(account, dict) and account.get("webhook_url"):
                registered[uid] = sim
    if not registered:
        return []
    select = sa.select(t.inboxes.c.uid, t.inboxes.c.name).where(t.inboxes.c.uid.in_(list(registered)))
    async with svc.db.read() as conn:
        rows = (await conn.execute(select.order_by(t.inboxes.c.id))).all()
    return [
        (
            f"{registered[uid].channel_type}/{uid}",
            _shown(registered[uid].label, name),
            registered[uid].takes_files,
        )
        for uid, name in rows
    ]


def _shown(label: str, name: str) -> str:
    """The inbox's name, with its channel unless the name says it ("Telegram (simulated)")."""
    return name if label.casefold() in name.casefold() else f"{label}: {name}"


async def _page(svc: Svc, sims: dict[str, Simulator], locale: str) -> str:
    def say(key: str) -> str:
        return html.escape(translate(locale, key))

    inboxes = await _inboxes(svc, sims)
    title = say("demo_customer.title")
    texts: dict[str, Any] = {
        key: translate(locale, f"demo_customer.{key}", reason="{reason}")
        for key in ("you", "business", "typing", "empty", "failed", "file", "too_big")
    }
    texts["max_bytes"] = FILE_BYTES
    # </script> cannot appear in the JSON: json.dumps leaves "<" as it is, so it is escaped.
    embedded = json.dumps(texts, ensure_ascii=False).replace("<", "\\u003c")
    if inboxes:
        options = "".join(
            f'<option value="{html.escape(value)}" data-files="{int(files)}">{html.escape(label)}</option>'
            for value, label, files in inboxes
        )
        body = (
            f'<form id="write"><label for="inbox">{say("demo_customer.inbox")}</label>'
            f'<select id="inbox" data-testid="demo-inbox">{options}</select>'
            f'<label for="name">{say("demo_customer.name")}</label>'
            f'<input id="name" data-testid="demo-name" maxlength="64" dir="auto" '
            f'value="{say("demo_customer.default_name")}">'
            f'<div id="chat" data-testid="demo-chat"></div><div id="note" class="who"></div>'
            f'<label for="text">{say("demo_customer.text")}</label>'
            f'<textarea id="text" data-testid="demo-text" rows="3" maxlength="4000" dir="auto"></textarea>'
            f'<p id="files"><label for="attach">{say("demo_customer.attach")}</label>'
            f'<input id="attach" type="file" data-testid="demo-file"></p>'
            f'<button data-testid="demo-send">{say("demo_customer.send")}</button></form>'
            f'<script id="texts" type="application/json">{embedded}</script>'
            f"<script>{_SCRIPT}</script>"
        )
    else:
        body = f"<p>{say('demo_customer.none')}</p>"
    direction = "rtl" if locale in RTL else "ltr"
    return (
        f'<!doctype html><html lang="{locale}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_STYLE}</style></head>"
        f'<body><h1>{title}</h1><p><span class="sim">{say("demo_customer.badge")}</span> '
        f"{say('demo_customer.intro')}</p>"
        f"{body}</body></html>"
    )
