"""Frontdesk benchmarks: one command, bounded in time, writes bench/RESULTS.md.

    .venv/bin/python bench/run.py [--quick] [--only ingest,list,jobs] [--backends sqlite,postgresql]
                                  [--conversations N] [--messages-per-conversation M]
                                  [--skip-channels]

See bench/README.md for what each benchmark measures and how.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import orjson
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest
import jobs
import report
import scale
from common import BENCH, log, machine_info

BENCHES = ("ingest", "list", "jobs")


def config(quick: bool) -> dict[str, Any]:
    return {
        "quick": quick,
        # ingest
        "contacts": 2000,
        "ingest_connections": 32,
        "ingest_warmup": 2.0 if quick else 3.0,
        "ingest_seconds": 8.0 if quick else 20.0,
        "ingest_max_requests": 40_000 if quick else 100_000,
        "latency_seconds": 8.0 if quick else 20.0,
        "latency_max_requests": 10_000 if quick else 40_000,
        # list / thread / search at scale
        "conversations": 100_000 if quick else 1_000_000,
        "messages_per_conversation": 10,
        "read_requests": 300,
        # jobs
        "job_conversations": 20,
        "job_rate": 20.0 if quick else 50.0,
        "job_count": 200 if quick else 1000,
    }


async def _run_benches(
    only: list[str],
    backends: list[str],
    cfg: dict[str, Any],
    args: argparse.Namespace,
    workdir: Path,
    results: dict[str, Any],
) -> int:
    """Each benchmark on each backend, into `results`; returns how many failed."""
    failures = 0
    for bench in only:
        for kind in backends:
            if bench == "list" and kind == "sqlite" and args.skip_sqlite_scale:
                continue
            key = f"{bench}:{kind}"
            try:
                if bench == "ingest":
                    results[key] = await ingest.run(kind, cfg, workdir)
                elif bench == "jobs":
                    results[key] = await jobs.run(kind, cfg, workdir)
                    if kind == "postgresql":
                        try:
                            results[key + ":separate-worker"] = await jobs.run(
                                kind, cfg, workdir, separate_worker=True
                            )
                        except Exception as exc:
                            failures += 1
                            traceback.print_exc()
                            results[key + ":separate-worker"] = {"error": f"{type(exc).__name__}: {exc}"}
                else:
                    results[key] = await scale.run(kind, cfg, workdir, keep=args.keep_data)
            except Exception as exc:  # one failing benchmark must not hide the others
                failures += 1
                traceback.print_exc()
                results[key] = {"error": f"{type(exc).__name__}: {exc}"}
    return failures


def _default_output(only: list[str]) -> Path:
    """The full run writes RESULTS.md; a run of some benchmarks writes a file of its own, so it
    never replaces the other sections (and the hand-written analysis) of RESULTS.md."""
    if sorted(only) == sorted(BENCHES):
        return BENCH / "RESULTS.md"
    return BENCH / f"RESULTS-{'-'.join(only)}.md"


async def main_async(args: argparse.Namespace) -> int:
    if args.render:
        out = Path(args.output) if args.output else BENCH / "RESULTS.md"
        figures = orjson.loads(out.with_suffix(".json").read_bytes())
        out.write_text(report.with_browser_sections(out, report.render(figures)))
        log(f"re-rendered {out}")
        return 0
    cfg = config(args.quick)
    if args.conversations:
        cfg["conversations"] = args.conversations
    if args.messages_per_conversation:
        cfg["messages_per_conversation"] = args.messages_per_conversation
    cfg["ingest_channels"] = not args.skip_channels
    only = [b.strip() for b in args.only.split(",")] if args.only else list(BENCHES)
    backends = [b.strip() for b in args.backends.split(",")]
    for b in only:
        if b not in BENCHES:
            log(f"unknown benchmark {b!r}; choose from {', '.join(BENCHES)}")
            return 2
    workdir = Path(tempfile.mkdtemp(prefix="frontdesk-bench-"))
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "config": cfg,
        "command": " ".join(["bench/run.py", *sys.argv[1:]]),
    }
    try:
        failures = await _run_benches(only, backends, cfg, args, workdir, results)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["elapsed_s"] = time.monotonic() - started
    out = Path(args.output) if args.output else _default_output(only)
    # The raw figures beside the report, so it can be re-rendered (--render) after editing NOTES.md.
    out.write_text(report.with_browser_sections(out, report.render(results)))
    out.with_suffix(".json").write_bytes(
        orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
    )
    log(f"wrote {out} ({results['elapsed_s']:.0f} s)")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small scale and short runs (minutes)")
    parser.add_argument("--only", default="", help=f"comma list of: {', '.join(BENCHES)}")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma list: sqlite,postgresql")
    parser.add_argument("--conversations", type=int, default=0, help="scale of the list benchmark")
    parser.add_argument("--messages-per-conversation", type=int, default=0, help="default 10")
    parser.add_argument("--skip-sqlite-scale", action="store_true", help="list benchmark on PostgreSQL only")
    parser.add_argument(
        "--skip-channels",
        action="store_true",
        help="ingest: leave out the LINE, WeChat and Telegram rows (API channel and floor only)",
    )
    parser.add_argument("--keep-data", action="store_true", help="keep the generated PostgreSQL database")
    parser.add_argument(
        "--output",
        default="",
        help="results file (default bench/RESULTS.md; with --only, bench/RESULTS-<benchmarks>.md)",
    )
    parser.add_argument("--render", action="store_true", help="only re-render RESULTS.md from RESULTS.json")
    args = parser.parse_args()
    sys.exit(uvloop.run(main_async(args)))


if __name__ == "__main__":
    main()
