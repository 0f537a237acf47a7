#!/usr/bin/env python3
"""Print a workspace's realtime events as they arrive (the README's curl walk-through).

.venv/bin/python scripts/watch_stream.py --token <API token> [--workspace 1] [--since SEQ]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json

import websockets


async def watch(url: str, token: str) -> None:
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {token}"}) as ws:
        async for frame in ws:
            event = json.loads(frame)
            if event.get("type") == "ready":
                print(f"connected; log is at seq {event['last_seq']}", flush=True)
                continue
            print(json.dumps(event, ensure_ascii=False), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", required=True, help="a personal API token")
    parser.add_argument("--workspace", type=int, default=1)
    parser.add_argument("--since", type=int, help="replay events after this sequence first")
    parser.add_argument("--base", default="ws://127.0.0.1:8000", help="the server's websocket address")
    args = parser.parse_args()
    url = f"{args.base}/api/v1/workspaces/{args.workspace}/stream"
    if args.since is not None:
        url += f"?since={args.since}"
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(watch(url, args.token))


if __name__ == "__main__":
    main()
