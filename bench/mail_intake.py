# ruff: noqa: E501  (report lines are long Markdown table rows)
"""Email intake (issue 5), on 127.0.0.1 only, each figure beside a baseline measured in the same
run:

- intake rate: mails of about 5 KB and about 50 KB sent over 8 SMTP connections to the SMTP
  listener of one `frontdesk serve` process (SQLite); a mail counts when the listener answers
  250, which it does only after the message is committed. Baseline: the same client against a
  bare aiosmtpd server that accepts and discards (the SMTP floor of this machine);
- memory with a 25 MB attachment: the server's peak resident set (VmHWM) growth while one such
  mail is received, parsed and stored, beside the size of the mail on the wire.

    .venv/bin/python bench/mail_intake.py [--mails 1000] [--write]

--write replaces the "Email intake" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import aiosmtplib
import httpx
import orjson
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.common import free_port, frontdesk_cli, frontdesk_server, log, make_backend, replace_section  # noqa: E402

MARKER = "## Email intake"
ADMIN = "admin@demo.frontdesk.test"
PASSWORD = "frontdesk-demo"
MAIL_DOMAIN = "mail.bench.test"
CONNECTIONS = 8


def status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field}")


def message(to: str, n: int, size: int, attachment: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <customer{n}@example.com>"
    msg["To"] = to
    msg["Subject"] = f"Bench mail {n}"
    msg["Message-ID"] = f"<bench-{n}-{size}@example.com>"
    line = "Merhaba, siparişim hakkında bir sorum var. سلام، دربارهٔ سفارشم سوالی دارم.\n"
    msg.set_content(line * max(1, size // len(line.encode())))
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="big.pdf")
    return msg.as_bytes(policy=default_policy.clone(linesep="\r\n"))


async def send_all(port: int, to: str, mails: list[bytes]) -> float:
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for m in mails:
        queue.put_nowait(m)

    async def worker() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60, start_tls=False)
        await client.connect()
        try:
            while not queue.empty():
                raw = queue.get_nowait()
                await client.sendmail("sender@example.com", [to], raw)
        finally:
            await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return time.perf_counter() - started


class Discard:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


async def floor_rate(mails: list[bytes]) -> float:
    port = free_port()
    controller = Controller(Discard(), hostname="127.0.0.1", port=port, data_size_limit=60_000_000)
    controller.start()
    try:
        return len(mails) / await send_all(port, "anyone@example.com", mails)
    finally:
        controller.stop()


async def email_inbox(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        login = await http.post("/api/v1/auth/login", json={"email": ADMIN, "password": PASSWORD})
        login.raise_for_status()
        csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
        ws = (await http.get("/api/v1/me")).json()["workspaces"][0]["id"]
        r = await http.post(
            f"/api/v1/workspaces/{ws}/inboxes",
            headers=csrf,
            json={"name": "Bench mail", "channel_type": "email", "settings": {"local_part": "bench"}},
        )
        r.raise_for_status()
        addresses = (
            await http.get(f"/api/v1/workspaces/{ws}/inboxes/{r.json()['id']}/email-addresses")
        ).json()
        return str(addresses["hosted_address"])


async def measure(count: int) -> dict[str, Any]:
    out: dict[str, Any] = {"mails": count}
    work = Path(tempfile.mkdtemp(prefix="frontdesk-bench-email-"))
    backend = make_backend("sqlite", "email", work)
    frontdesk_cli(backend, "migrate")
    frontdesk_cli(backend, "demo")
    port = free_port()
    env = {
        "FRONTDESK_MAIL_DOMAIN": MAIL_DOMAIN,
        "FRONTDESK_SMTP_LISTEN_PORT": str(port),
        "FRONTDESK_SMTP_LISTEN_MAX_BYTES": str(60_000_000),
        "FRONTDESK_MAX_ATTACHMENT_BYTES": str(30_000_000),
    }
    with frontdesk_server(backend, "--no-worker", env=env) as server:
        base = f"http://127.0.0.1:{server.port}"
        to = await email_inbox(base)
        for size in (3_500, 35_000):  # about 5 KB and 50 KB on the wire (UTF-8, quoted-printable)
            mails = [message(to, n, size) for n in range(count)]
            out[f"wire_{size}"] = sum(len(m) for m in mails) / len(mails)
            log(f"email: {count} mails of ~{size // 1000} KB, floor then frontdesk")
            out[f"floor_{size}"] = await floor_rate(mails)
            out[f"rate_{size}"] = count / await send_all(port, to, mails)
        # A real PDF's leading bytes: the file is stored, not left out for its type.
        pdf = b"%PDF-1.7\n" + os.urandom(25 * 1_048_576 - 9)
        big = message(to, 10**6, 2_000, attachment=pdf)
        out["big_wire"] = len(big)
        # The high-water mark is reset to the present resident set (Linux clear_refs 5), so the
        # growth is this mail's alone, not hidden under an earlier peak of the rate runs.
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")
        before = status_kib(server.pid, "VmRSS")
        out["rss_before_kib"] = before
        log("email: one mail with a 25 MB attachment")
        out["big_seconds"] = await send_all(port, to, [big])
        out["hwm_growth_kib"] = status_kib(server.pid, "VmHWM") - before
    return out


def render(r: dict[str, Any]) -> str:
    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    mb = r["big_wire"] / 1_048_576
    growth = r["hwm_growth_kib"] / 1024
    return "\n".join(
        [
            MARKER,
            "",
            f"Generated by `.venv/bin/python bench/mail_intake.py --write` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
            f"{r['mails']:,} mails per size over {CONNECTIONS} SMTP connections (aiosmtplib) to the SMTP listener of one "
            "`frontdesk serve` process (SQLite, worker off); client and server share the 2 CPUs. A mail counts when the "
            "listener answers 250, which it does after the message is committed.",
            "",
            "| goal | measured | baseline (same run) | verdict |",
            "|---|---|---|---|",
            f"| intake ≥ 200 mails/s (≤ 50 KB) | {r['rate_3500']:.0f} mails/s at {r['wire_3500'] / 1000:.1f} KB; {r['rate_35000']:.0f} mails/s at {r['wire_35000'] / 1000:.1f} KB | bare aiosmtpd that discards: {r['floor_3500']:.0f} / {r['floor_35000']:.0f} mails/s | {verdict(min(r['rate_3500'], r['rate_35000']) >= 200)} |",
            f"| a 25 MB attachment is streamed to disk, not held 9× in memory (peak growth ≤ 3× the mail) | peak resident set grew {growth:.0f} MiB ({growth / mb:.2f}× the mail) while receiving, parsing and storing it in {r['big_seconds']:.1f} s | the mail on the wire: {mb:.1f} MiB | {verdict(growth / mb <= 3)} |",
            "",
            "Peak growth is VmHWM (the process's high-water mark of resident memory) after the mail minus VmRSS before it, the mark being reset just before the mail (`/proc/PID/clear_refs` 5).",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(measure(args.mails))
    section = render(result)
    print(section)
    print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode(), file=sys.stderr)
    if args.write:
        replace_section(MARKER, section)


if __name__ == "__main__":
    main()
