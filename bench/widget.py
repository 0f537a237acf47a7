# ruff: noqa: E501  (report lines are long Markdown table rows)
"""The website widget's speed (issue 4), on 127.0.0.1 only, each figure beside a baseline measured
in the same run:

- bundle: gzip -9 of the built widget.js beside a floor script that only draws a launcher in a
  shadow root (the least any isolated widget ships);
- script tag → launcher visible (median of 10 cold loads in headless Chromium, host page on
  another origin than Frontdesk) beside one cross-origin fetch of the widget config from the same page
  (network + server floor);
- N simultaneous idle visitor sockets on one `frontdesk serve` process (SQLite, each visitor its
  own session and X-Forwarded-For address, each socket past its hello): the process's resident
  memory per socket, beside the same count of idle sockets on bench/floor_app.py's /stream (a
  minimal FastAPI websocket route with a hub subscription, under the same uvicorn settings).

    .venv/bin/python bench/widget.py [--sockets 5000] [--write]

--write replaces the "Website widget" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from playwright.async_api import async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import floor_server, frontdesk_cli, frontdesk_server, log, make_backend, replace_section  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.e2e.host_site import host_site  # noqa: E402

from frontdesk.channels.web.widget_asset import WIDGET_FILE  # noqa: E402

MARKER = "## Website widget"
ADMIN = "admin@demo.frontdesk.test"
PASSWORD = "frontdesk-demo"

# The floor: a launcher button in a shadow root, nothing else.
FLOOR_SCRIPT = """(function(){var h=document.createElement('div');h.id='floor-widget';
h.style.cssText='all:initial;position:fixed;bottom:20px;right:20px;z-index:2147483000';
var r=h.attachShadow({mode:'open'});var s=document.createElement('style');
s.textContent='button{width:56px;height:56px;border-radius:50%;border:0;background:#1f6feb;color:#fff;font:16px system-ui}';
var b=document.createElement('button');b.setAttribute('data-fd','launcher');b.setAttribute('aria-label','Chat');b.textContent='?';
r.appendChild(s);r.appendChild(b);document.body.appendChild(h);})();"""

# Runs before the page's own scripts: the start mark, and a frame-by-frame watch for the launcher.
PROBE = """
window.__t0 = performance.now();
window.__launcher = null;
(function watch() {
  const host = document.getElementById('frontdesk-widget');
  const launcher = host && host.shadowRoot && host.shadowRoot.querySelector('[data-fd="launcher"]');
  if (launcher && launcher.getBoundingClientRect().width > 0) { window.__launcher = performance.now(); return; }
  requestAnimationFrame(watch);
})();
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def web_inbox(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        login = await http.post("/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
        login.raise_for_status()
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        me = (await http.get("/api/v1/me")).json()
        ws = me["workspaces"][0]["id"]
        r = await http.post(
            f"/api/v1/workspaces/{ws}/inboxes",
            headers=csrf,
            json={"name": "Bench site", "channel_type": "web", "settings": {}},
        )
        r.raise_for_status()
        return str(r.json()["uid"])


def address(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255 or 1}"


async def launcher_times(base: str, uid: str, runs: int) -> dict[str, float]:
    out: dict[str, list[float]] = {"launcher": [], "floor_fetch": []}
    async with host_site(base, uid) as site, async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for i in range(runs + 1):  # the first load warms the server's caches; not counted
            ctx = await browser.new_context(extra_http_headers={"X-Forwarded-For": address(60000 + i)})
            page = await ctx.new_page()
            await page.add_init_script(PROBE)
            await page.goto(site.url + "/")
            await page.wait_for_function("window.__launcher !== null", timeout=20_000)
            launcher = float(await page.evaluate("window.__launcher - window.__t0"))
            fetch = float(
                await page.evaluate(
                    "async (u) => { const t = performance.now(); await (await fetch(u)).json(); return performance.now() - t; }",
                    f"{base}/widget/v1/{uid}/config",
                )
            )
            if i:
                out["launcher"].append(launcher)
                out["floor_fetch"].append(fetch)
            await ctx.close()
        await browser.close()
    return {
        "launcher_ms": statistics.median(out["launcher"]),
        "launcher_p90_ms": sorted(out["launcher"])[int(len(out["launcher"]) * 0.9) - 1],
        "floor_fetch_ms": statistics.median(out["floor_fetch"]),
    }


async def sessions(base: str, uid: str, count: int) -> list[str]:
    tokens: list[str] = []
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:
        for start in range(0, count, 200):

            async def one(i: int) -> str:
                r = await http.post(
                    f"/widget/v1/{uid}/sessions",
                    json={"page": {"url": "http://localhost/bench", "title": "Bench"}},
                    headers={"X-Forwarded-For": address(i)},
                )
                r.raise_for_status()
                return str(r.json()["visitor_token"])

            tokens += await asyncio.gather(*(one(i) for i in range(start, min(count, start + 200))))
    return tokens


async def hold_sockets(url: str, hellos: list[bytes | None], pid: int, settle: float = 3.0) -> dict[str, Any]:
    """Open one socket per hello (None: no hello), wait for the server's first frame on each,
    then read the server's memory while all of them sit idle."""
    before = rss_kib(pid)
    sockets: list[Any] = []
    started = time.monotonic()
    for start in range(0, len(hellos), 100):

        async def one(i: int) -> Any:
            ws = await websockets.connect(
                url,
                additional_headers={"X-Forwarded-For": address(i)},
                open_timeout=60,
                ping_interval=None,
                max_size=2**20,
            )
            hello = hellos[i]
            if hello is not None:
                await ws.send(hello.decode())
            first = orjson.loads(await asyncio.wait_for(ws.recv(), 60))
            if first.get("type") != "ready":
                raise RuntimeError(f"socket {i}: expected ready, got {first}")
            return ws

        sockets += await asyncio.gather(*(one(i) for i in range(start, min(len(hellos), start + 100))))
    opened = time.monotonic() - started
    await asyncio.sleep(settle)
    after = rss_kib(pid)
    for ws in sockets:
        await ws.close()
    return {
        "count": len(sockets),
        "rss_before_kib": before,
        "rss_after_kib": after,
        "per_socket_kib": (after - before) / len(sockets),
        "open_seconds": opened,
    }


async def measure(sockets: int, runs: int) -> dict[str, Any]:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < sockets * 2 + 200:
        raise SystemExit(f"open-file limit {hard} is too low for {sockets} sockets")
    out: dict[str, Any] = {}
    widget = WIDGET_FILE.read_bytes()
    out["bundle_raw"] = len(widget)
    out["bundle_gz"] = len(gzip.compress(widget, 9))
    out["floor_gz"] = len(gzip.compress(FLOOR_SCRIPT.encode(), 9))

    work = Path(tempfile.mkdtemp(prefix="frontdesk-bench-widget-"))
    backend = make_backend("sqlite", "widget", work)
    frontdesk_cli(backend, "migrate")
    frontdesk_cli(backend, "demo")
    with frontdesk_server(backend, "--no-worker") as server:
        base = f"http://127.0.0.1:{server.port}"
        uid = await web_inbox(base)
        log("widget: script tag → launcher, cold loads")
        out.update(await launcher_times(base, uid, runs))
        log(f"widget: {sockets} visitor sessions")
        tokens = await sessions(base, uid, sockets)
        url = f"ws://127.0.0.1:{server.port}/widget/v1/{uid}/socket"
        hellos = [
            orjson.dumps(
                {
                    "type": "hello",
                    "visitor_token": tok,
                    "last_message_id": 0,
                    "page": {"url": "http://localhost/bench", "title": "Bench"},
                    "language": "en",
                }
            )
            for tok in tokens
        ]
        log(f"widget: {sockets} idle visitor sockets")
        out["visitor"] = await hold_sockets(url, hellos, server.pid)
    with floor_server(make_backend("sqlite", "widget-floor", work)) as floor:
        log(f"widget: {sockets} idle floor sockets")
        out["floor"] = await hold_sockets(
            f"ws://127.0.0.1:{floor.port}/floor/1/stream", [None] * sockets, floor.pid
        )
    return out


def render(r: dict[str, Any], sockets: int) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    v, f = r["visitor"], r["floor"]
    return "\n".join(
        [
            MARKER,
            "",
            f"Generated by `.venv/bin/python bench/widget.py --write` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
            "headless Chromium (`/usr/bin/chromium`), the host page (another origin) and `frontdesk serve` (SQLite, one process) "
            "on the same 2 CPUs.",
            "",
            "| goal | measured | baseline (same run) | verdict |",
            "|---|---|---|---|",
            f"| widget ≤ 30 KB gzipped | {r['bundle_gz'] / 1000:.1f} KB gzipped ({r['bundle_raw'] / 1000:.1f} KB minified), one file | a launcher-only shadow-DOM script: {r['floor_gz'] / 1000:.2f} KB | {verdict(r['bundle_gz'] <= 30_000)} |",
            f"| script tag → launcher visible (no goal set) | median {r['launcher_ms']:.0f} ms, p90 {r['launcher_p90_ms']:.0f} ms (10 cold loads) | one cross-origin fetch of /widget/v1/…/config from the page: {r['floor_fetch_ms']:.1f} ms | — |",
            f"| {sockets:,} idle visitor sockets, ≤ 32 KiB each | {v['per_socket_kib']:.1f} KiB per socket (RSS {v['rss_before_kib'] / 1024:.0f} → {v['rss_after_kib'] / 1024:.0f} MiB; all {v['count']:,} opened with hello in {v['open_seconds']:.1f} s) | a minimal FastAPI socket route on the same server settings (bench/floor_app.py /stream): {f['per_socket_kib']:.1f} KiB | {verdict(v['per_socket_kib'] <= 32)} |",
            "",
            "Memory is the server process's resident set (VmRSS) after every socket received its first frame and a 3 s settle, minus "
            "the resident set before the first socket opened (after the visitors' sessions were created), divided by the sockets.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.sockets, args.runs))
    section = render(result, args.sockets)
    print(section)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode(), file=sys.stderr)
    if args.write:
        replace_section(MARKER, section)


if __name__ == "__main__":
    main()
