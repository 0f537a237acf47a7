# ruff: noqa: E501  (report lines are long Markdown table rows)
"""Dashboard speed in a real Chromium (Playwright driving /usr/bin/chromium) against a real
`frontdesk serve` on SQLite, on 127.0.0.1 only. Each figure is printed beside a baseline measured
in the same run:

- initial JavaScript (gzip -9 of every script the browser fetched to show the inbox, cold cache)
  beside the sign-in page's JavaScript;
- first meaningful paint of the inbox (navigation start → first conversation row in the DOM,
  median of 10 cold loads) beside a navigation to /healthz (browser + server floor);
- switching conversations with cached data (click → the other thread's last message painted)
  beside the first, uncached opening of the same conversations;
- scrolling 10,000 loaded conversations (requestAnimationFrame intervals while scrolling the
  list end to end) beside the same scroll over 10,000 plain, non-virtualised rows.

    .venv/bin/python bench/dashboard.py [--conversations 10000] [--write]

--write replaces the "Dashboard" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
from playwright.async_api import Page, async_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import free_port, log, replace_section  # noqa: E402
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.factories import sign  # noqa: E402

from frontdesk.http.web import DASHBOARD_DIR  # noqa: E402

ADMIN = "admin@demo.frontdesk.test"
PASSWORD = "frontdesk-demo"
MARKER = "## Dashboard (browser)"

# Records when the first conversation row reaches the DOM, before any page script runs.
FMP_PROBE = """
window.__fmp = null;
new MutationObserver((_, obs) => {
  if (document.querySelector('[data-testid="conversation-row"]')) {
    window.__fmp = performance.now(); obs.disconnect();
  }
}).observe(document, {childList: true, subtree: true});
"""

SWITCH = """async ([id, text]) => {
  const row = document.querySelector(`[data-testid="conversation-row"][data-id="${id}"]`);
  const t0 = performance.now();
  row.click();
  for (;;) {
    await new Promise(requestAnimationFrame);
    const thread = document.querySelector('[data-testid="thread"]');
    if (thread && thread.textContent.includes(text)) return performance.now() - t0;
    if (performance.now() - t0 > 5000) return -1;
  }
}"""

SCROLL = """async (selector) => {
  const candidates = [...document.querySelectorAll(selector + ' *'), document.querySelector(selector)];
  const el = candidates.filter(e => e && e.scrollHeight > e.clientHeight + 10 &&
    ['auto', 'scroll'].includes(getComputedStyle(e).overflowY))
    .sort((a, b) => b.scrollHeight - a.scrollHeight)[0];
  if (!el) return null;
  el.scrollTop = 0;
  await new Promise(requestAnimationFrame);
  const frames = [];
  let last = performance.now();
  const step = 240;
  while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
    el.scrollTop += step;
    await new Promise(requestAnimationFrame);
    const now = performance.now();
    frames.push(now - last);
    last = now;
  }
  return {frames, height: el.scrollHeight};
}"""


def plain_rows(n: int) -> str:
    rows = "".join(
        f'<div class="r"><b>Contact {i}</b><span>Preview of the last message number {i}</span>'
        f"<i>12:{i % 60:02d}</i></div>"
        for i in range(n)
    )
    return (
        "<style>#l{height:800px;overflow-y:auto}.r{height:72px;display:flex;flex-direction:column;"
        "border-bottom:1px solid #ddd;padding:8px}</style>"
        f'<div id="l" data-testid="plain">{rows}</div>'
    )


async def seed(base: str, count: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        login = await http.post("/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
        login.raise_for_status()
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        me = (await http.get("/api/v1/me")).json()
        ws = me["workspaces"][0]["id"]
        inbox = next(
            i
            for i in (await http.get(f"/api/v1/workspaces/{ws}/inboxes")).json()
            if i["channel_type"] == "api"
        )
        secrets = (
            await http.get(f"/api/v1/workspaces/{ws}/inboxes/{inbox['id']}/secrets", headers=csrf)
        ).json()
        secret = secrets["hmac_secret"]
        sem = asyncio.Semaphore(16)

        async def one(i: int) -> None:
            body = orjson.dumps(
                {
                    "type": "message",
                    "source_id": f"bench-{i}",
                    "text": f"Bench message {i}: where is my order?",
                    "contact": {"source_id": f"bench-contact-{i}", "name": f"Bench Contact {i}"},
                }
            )
            async with sem:
                r = await http.post(
                    inbox["webhook_path"],
                    content=body,
                    headers={"Content-Type": "application/json", "X-Frontdesk-Signature": sign(secret, body)},
                )
                r.raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(count)))
        log(f"seeded {count} conversations in {time.perf_counter() - started:.1f} s")
        return {"workspace_id": ws}


async def login(page: Page) -> None:
    await page.goto("/login")
    await page.get_by_test_id("login-email").fill(ADMIN)
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    await page.get_by_test_id("conversation-row").first.wait_for()


def gz(paths: set[str]) -> int:
    total = 0
    for p in paths:
        total += len(gzip.compress((DASHBOARD_DIR / p.lstrip("/")).read_bytes(), 9))
    return total


async def measure(base: str, count: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = await browser.new_context(base_url=base, viewport={"width": 1400, "height": 900})
        page = await ctx.new_page()

        # 1. JavaScript: the sign-in page, then everything fetched until the inbox shows.
        scripts: list[str] = []
        page.on("response", lambda r: scripts.append(r.url) if r.request.resource_type == "script" else None)
        await page.goto("/login")
        await page.get_by_test_id("login-email").wait_for()
        login_js = {u.split(base, 1)[1] for u in scripts}
        await login(page)
        inbox_js = {u.split(base, 1)[1] for u in scripts}
        out["js_inbox_gz"] = gz(inbox_js)
        out["js_login_gz"] = gz(login_js)
        out["js_files"] = len(inbox_js)

        # 2. First meaningful paint: cold loads of /inbox with the session cookie.
        state = await ctx.storage_state()
        fmp: list[float] = []
        floor: list[float] = []
        for _ in range(10):
            c = await browser.new_context(
                base_url=base, storage_state=state, viewport={"width": 1400, "height": 900}
            )
            p = await c.new_page()
            await p.add_init_script(FMP_PROBE)
            await p.goto("/inbox")
            await p.get_by_test_id("conversation-row").first.wait_for()
            fmp.append(float(await p.evaluate("window.__fmp")))
            await p.goto("/healthz")
            floor.append(float(await p.evaluate("performance.getEntriesByType('navigation')[0].responseEnd")))
            await c.close()
        out["fmp_ms"] = statistics.median(fmp)
        out["fmp_p90_ms"] = sorted(fmp)[8]
        out["floor_ms"] = statistics.median(floor)

        # 3. Switching: first (uncached) opening of two conversations, then cached switches.
        rows = page.get_by_test_id("conversation-row")
        ids = [await rows.nth(i).get_attribute("data-id") for i in range(2)]
        texts = []
        for i in range(2):
            preview = (await rows.nth(i).inner_text()).split("\n")
            texts.append(next(t for t in preview if t.startswith("Bench message") or "order" in t))
        first = [float(await page.evaluate(SWITCH, [ids[i], texts[i]])) for i in range(2)]
        cached = [float(await page.evaluate(SWITCH, [ids[i % 2], texts[i % 2]])) for i in range(20)]
        out["switch_first_ms"] = statistics.median(first)
        out["switch_cached_ms"] = statistics.median(cached)
        out["switch_cached_p90_ms"] = sorted(cached)[17]

        # 4. Scroll the whole list once every page is loaded (scrolling to the end loads more).
        await page.goto("/archive")
        await page.get_by_test_id("conversation-row").first.wait_for()
        deadline = time.monotonic() + 120
        height = 0
        while time.monotonic() < deadline:
            res = await page.evaluate(
                SCROLL.replace("el.scrollTop += step", "el.scrollTop = el.scrollHeight"),
                '[data-testid="conversation-list"]',
            )
            if res is None:
                break
            if res["height"] == height:
                break
            height = res["height"]
            await page.wait_for_timeout(300)
        scroll = await page.evaluate(SCROLL, '[data-testid="conversation-list"]')
        out["list_height_px"] = height
        out["list_rows_in_dom"] = await page.get_by_test_id("conversation-row").count()
        await page.set_content(plain_rows(count))
        plain = await page.evaluate(SCROLL, '[data-testid="plain"]')
        for name, res in (("virtual", scroll), ("plain", plain)):
            frames = sorted(res["frames"]) if res else []
            out[f"scroll_{name}_frames"] = len(frames)
            out[f"scroll_{name}_p50_ms"] = statistics.median(frames) if frames else float("nan")
            out[f"scroll_{name}_p99_ms"] = frames[int(len(frames) * 0.99) - 1] if frames else float("nan")
            out[f"scroll_{name}_over_33ms"] = sum(1 for f in frames if f > 33.4)
        await browser.close()
    return out


def render(r: dict[str, Any], count: int) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    lines = [
        MARKER,
        "",
        f"Generated by `.venv/bin/python bench/dashboard.py --write` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        f"Chromium (headless, `/usr/bin/chromium`) and `frontdesk serve` (SQLite) on the same 2 CPUs; "
        f"the demo workspace plus {count:,} conversations posted through the API channel's webhook.",
        "",
        "| goal | measured | baseline (same run) | verdict |",
        "|---|---|---|---|",
        f"| initial JavaScript ≤ 250 KB gzipped | {r['js_inbox_gz'] / 1024:.1f} KB ({r['js_files']} files, to show the inbox) "
        f"| sign-in page: {r['js_login_gz'] / 1024:.1f} KB | {verdict(r['js_inbox_gz'] <= 250 * 1024)} |",
        f"| first meaningful paint of the inbox ≤ 1 s | median {r['fmp_ms']:.0f} ms, p90 {r['fmp_p90_ms']:.0f} ms "
        f"(navigation → first row, 10 cold loads) | /healthz navigation: {r['floor_ms']:.0f} ms | {verdict(r['fmp_p90_ms'] <= 1000)} |",
        f"| switching conversations ≤ 100 ms (cached) | median {r['switch_cached_ms']:.1f} ms, p90 {r['switch_cached_p90_ms']:.1f} ms "
        f"(click → other thread painted, 20 switches) | first, uncached opening: {r['switch_first_ms']:.1f} ms "
        f"| {verdict(r['switch_cached_p90_ms'] <= 100)} |",
        f"| {count:,} conversations scroll without dropped frames | {r['scroll_virtual_frames']} frames: p50 "
        f"{r['scroll_virtual_p50_ms']:.1f} ms, p99 {r['scroll_virtual_p99_ms']:.1f} ms, {r['scroll_virtual_over_33ms']} over 33 ms; "
        f"{r['list_rows_in_dom']} rows in the DOM, list {r['list_height_px']:,} px tall | {count:,} plain rows: "
        f"{r['scroll_plain_frames']} frames, p50 {r['scroll_plain_p50_ms']:.1f} ms, p99 {r['scroll_plain_p99_ms']:.1f} ms, "
        f"{r['scroll_plain_over_33ms']} over 33 ms | {verdict(r['scroll_virtual_over_33ms'] == 0)} |",
        "",
        "A frame over 33 ms means at least one frame was dropped at 60 Hz. Headless Chromium paces "
        "requestAnimationFrame at about 60 Hz without a display, so frame intervals are the browser's own "
        "pacing plus our work.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if not (DASHBOARD_DIR / "index.html").is_file():
        sys.exit("build the dashboard first: make web")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "FRONTDESK_DEV_MODE": "1",
            "FRONTDESK_DATA_DIR": data,
            "FRONTDESK_PORT": str(port),
            "FRONTDESK_LOG_LEVEL": "WARNING",
        }
        frontdesk = str(ROOT / ".venv" / "bin" / "frontdesk")
        subprocess.run([frontdesk, "demo"], env=env, check=True, capture_output=True)
        server = subprocess.Popen(
            [frontdesk, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            for _ in range(200):
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            asyncio.run(seed(base, args.conversations))
            results = asyncio.run(measure(base, args.conversations))
        finally:
            server.terminate()
            server.wait(10)
    section = render(results, args.conversations)
    print(section)
    print(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
    if args.write:
        replace_section(MARKER, section)


if __name__ == "__main__":
    main()
