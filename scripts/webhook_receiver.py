#!/usr/bin/env python3
"""A small receiver for the API channel's outbound webhooks (the README's curl walk-through).

    python3 scripts/webhook_receiver.py --port 9000 --secret <hmac_secret>

Listens on 127.0.0.1. For each POST it checks X-Frontdesk-Signature (HMAC-SHA256 of the raw
body with the inbox secret) and answers 401 if it is missing or wrong; answers 200 without
printing again to a repeated X-Frontdesk-Message-Id; prints each reply's conversation and text;
answers 200 {"source_id": "receiver-<id>"}. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 10 * 1024 * 1024


def expected_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class Receiver(ThreadingHTTPServer):
    def __init__(self, port: int, secret: str) -> None:
        super().__init__(("127.0.0.1", port), Handler)
        self.secret = secret
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def first_time(self, message_id: str) -> bool:
        """True the first time a message id is seen; a repeated delivery is dropped."""
        with self.lock:
            if message_id in self.seen:
                return False
            self.seen.add(message_id)
            return True


class Handler(BaseHTTPRequestHandler):
    server: Receiver
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True  # the unread body would be taken for the next request
            self._answer(400, {"error": "bad Content-Length"})
            return
        body = self.rfile.read(length)
        given = (self.headers.get("X-Frontdesk-Signature") or "").strip()
        if not hmac.compare_digest(given, expected_signature(self.server.secret, body)):
            print("refused a delivery: missing or wrong X-Frontdesk-Signature", flush=True)
            self._answer(401, {"error": "missing or wrong X-Frontdesk-Signature"})
            return
        try:
            data = json.loads(body)
            message = data["message"]
        except (ValueError, TypeError, KeyError):
            self._answer(400, {"error": "not a Frontdesk webhook"})
            return
        message_id = self.headers.get("X-Frontdesk-Message-Id") or str(message.get("id"))
        if self.server.first_time(message_id):
            self._print_reply(data, message)
        else:
            print(f"dropped a repeated delivery of message {message_id}", flush=True)
        self._answer(200, {"source_id": f"receiver-{message_id}"})

    def _print_reply(self, data: dict[str, Any], message: dict[str, Any]) -> None:
        contact = data.get("contact") or {}
        print(
            f"conversation #{message.get('conversation_number')} "
            f"(id {message.get('conversation_id')}) to {contact.get('name')}: "
            f"{message.get('sender_name') or 'agent'} wrote: {message.get('text')}",
            flush=True,
        )
        for attachment in message.get("attachments") or []:
            print(f"  attachment {attachment.get('file_name')}: {attachment.get('url')}", flush=True)

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per reply is printed above; no access log


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Receive and print Frontdesk API-channel replies.")
    parser.add_argument("--port", type=int, default=9000, help="port on 127.0.0.1 (default 9000)")
    parser.add_argument("--secret", required=True, help="the inbox's hmac_secret")
    args = parser.parse_args(argv)
    server = Receiver(args.port, args.secret)
    print(f"listening on http://127.0.0.1:{args.port}/ (any path); Ctrl-C to stop", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
