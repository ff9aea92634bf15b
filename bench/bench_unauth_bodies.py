"""Benchmark: a server's memory under large unauthenticated chunked uploads.

Starts a real ``taptrail serve`` process (uvicorn; SQLite in a temporary folder, no Redis,
no periodic jobs) on a free loopback port and measures its resident memory (VmRSS). Then
``--clients`` (50) connections at once each send ``PUT /api/v1/admin/games/{slug}`` without
a token and with a chunked body (no Content-Length) of ``--mib`` (64) MiB, the game file's
limit, while the server's RSS is sampled every 20 ms. Each client stops by itself: when the
answer arrives, when the server closes the connection, when the whole body is sent, or
after ``--timeout`` seconds. Everything stays on 127.0.0.1 and the server is stopped at the
end.

It prints the server's RSS before, at its peak during the requests and after, the answers
(status counts), what the clients managed to write (accepted by the kernel, not necessarily
read by the server), the server's CPU, and for scale the pure scoring engine's rate on this
machine (synthetic walkers scored in memory, best of three passes).

    .venv/bin/python bench/bench_unauth_bodies.py
    .venv/bin/python bench/bench_unauth_bodies.py --clients 8 --mib 64 --json unauth.json
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from processes import process_cpu, stop_processes  # noqa: E402

from harness.servers import free_port  # noqa: E402
from scoring import engine  # noqa: E402

MIB = 1 << 20


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB (Linux /proc), 0.0 if it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, Path]:
    port = free_port()
    env = {
        **os.environ,
        "TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        "TAPTRAIL_SECRET_KEY_FILE": str(folder / "taptrail.key"),
        "TAPTRAIL_PERIODIC_JOBS": "false",
        "TAPTRAIL_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("TAPTRAIL_REDIS_URL", None)
    log_path = folder / "server.log"
    cmd = [sys.executable, "-m", "taptrail.cli", "serve", "--host", "127.0.0.1"]
    cmd += ["--port", str(port)]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return proc, url, log_path
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop_processes([proc])
    raise RuntimeError(f"the server did not start: {log_path.read_text()[-2000:]}")


async def unauthenticated_upload(
    port: int,
    slug: str,
    size: int,
    chunk: int,
    timeout: float,  # noqa: ASYNC109
) -> dict[str, Any]:
    """One chunked PUT without a token; stops at the answer, a closed connection, the end of
    the body or the timeout."""
    written = 0
    status: int | str = "none"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), timeout)
    except (OSError, TimeoutError) as exc:
        return {"status": f"connect: {type(exc).__name__}", "written": 0}
    head = (
        f"PUT /api/v1/admin/games/{slug} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/yaml\r\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    frame = f"{chunk:x}\r\n".encode() + b"#" * chunk + b"\r\n"

    async def send_body() -> None:
        nonlocal written
        writer.write(head)
        while written < size:
            writer.write(frame)
            await writer.drain()
            written += chunk
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def read_status() -> int | str:
        line = await reader.readline()
        parts = line.split()
        return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else "closed"

    sending = asyncio.ensure_future(send_body())
    answer = asyncio.ensure_future(read_status())
    try:
        done, _ = await asyncio.wait(
            {sending, answer}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if answer in done:
            status = answer.result() if answer.exception() is None else "reset"
        elif sending in done:
            if sending.exception() is not None:
                status = "reset while sending"
            else:
                status = await asyncio.wait_for(answer, timeout)
        else:
            status = "timeout"
    except (OSError, TimeoutError, asyncio.IncompleteReadError):
        status = "reset"
    finally:
        for task in (sending, answer):
            task.cancel()
        await asyncio.gather(sending, answer, return_exceptions=True)
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 2)
    return {"status": status, "written": written}


async def sample_rss(pid: int, stop: asyncio.Event, samples: list[float]) -> None:
    while not stop.is_set():
        samples.append(rss_mib(pid))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.02)
    samples.append(rss_mib(pid))


async def attack(pid: int, port: int, args: argparse.Namespace) -> dict[str, Any]:
    samples: list[float] = []
    stop = asyncio.Event()
    sampler = asyncio.ensure_future(sample_rss(pid, stop, samples))
    started = time.perf_counter()
    results = await asyncio.gather(
        *(
            unauthenticated_upload(port, "bench-unauth", args.mib * MIB, MIB, args.timeout)
            for _ in range(args.clients)
        )
    )
    elapsed = time.perf_counter() - started
    stop.set()
    await sampler
    return {
        "seconds": elapsed,
        "peak_rss_mib": max(samples),
        "statuses": dict(Counter(str(r["status"]) for r in results)),
        "written_mib": sum(r["written"] for r in results) / MIB,
        "max_written_mib": max(r["written"] for r in results) / MIB,
    }


def engine_rate(walkers: int = 2_000, taps_each: int = 50) -> float:
    """Taps a second of the pure engine on synthetic walkers between neighbouring boxes on a
    400 m grid (best of three passes, everything in memory)."""
    start = datetime(2027, 5, 1, 7, tzinfo=UTC)
    rules = engine.Rules(starts_at=start - timedelta(days=1), ends_at=start + timedelta(days=42))
    grid = 20
    checkpoints = {
        f"B{i:03d}": engine.Checkpoint(
            f"B{i:03d}", 53.78 + (i // grid) * 0.0036, -2.26 + (i % grid) * 0.006
        )
        for i in range(grid * grid)
    }
    game = engine.GameContext(rules, checkpoints, ())
    holders = []
    for w in range(walkers):
        box = (w * 37) % (grid * grid - 1)
        at = start + timedelta(minutes=w % 600)
        taps = []
        for t in range(taps_each):
            taps.append(engine.Tap(f"{w}-{t}", f"B{(box + t % 2):03d}", at))
            at += timedelta(minutes=9 if t % 2 == 0 else 50)
        holders.append((taps, engine.Holder()))
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        for taps, holder in holders:
            engine.score_holder(taps, holder, game)
        best = min(best, time.perf_counter() - began)
    return walkers * taps_each / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent requests (50)")
    parser.add_argument("--mib", type=int, default=64, help="body of each request, MiB (64)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, s (60)")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON too")
    args = parser.parse_args()

    rate = engine_rate()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="taptrail-bench-unauth-") as tmp:
        proc, url, _ = start_server(Path(tmp))
        try:
            port = int(url.rsplit(":", 1)[1])
            httpx.get(f"{url}/api/v1/games", timeout=10)  # warm: one ordinary request
            time.sleep(1.0)
            before = rss_mib(proc.pid)
            cpu_before = process_cpu(proc.pid)
            result = asyncio.run(attack(proc.pid, port, args))
            time.sleep(1.0)
            after = rss_mib(proc.pid)
            cpu = process_cpu(proc.pid) - cpu_before
            alive = httpx.get(f"{url}/healthz", timeout=10).status_code
        finally:
            stop_processes([proc])
    figures = {
        "date": datetime.now(UTC).date().isoformat(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
        "clients": args.clients,
        "body_mib": args.mib,
        "rss_before_mib": round(before, 1),
        "rss_peak_mib": round(result["peak_rss_mib"], 1),
        "rss_after_mib": round(after, 1),
        "seconds": round(result["seconds"], 2),
        "statuses": result["statuses"],
        "client_written_mib": round(result["written_mib"], 1),
        "client_max_written_mib": round(result["max_written_mib"], 1),
        "server_cpu_s": round(cpu, 2),
        "healthz_after": alive,
        "engine_taps_per_s": round(rate),
    }
    print(
        f"{args.clients} unauthenticated chunked PUTs of {args.mib} MiB to `taptrail serve` "
        f"(SQLite), {figures['seconds']} s\n"
        f"  server RSS: before {figures['rss_before_mib']} MiB, peak during "
        f"{figures['rss_peak_mib']} MiB, after {figures['rss_after_mib']} MiB "
        f"(peak - before: {figures['rss_peak_mib'] - figures['rss_before_mib']:.1f} MiB)\n"
        f"  answers: {figures['statuses']}; clients wrote {figures['client_written_mib']} MiB "
        f"in all (at most {figures['client_max_written_mib']} MiB on one connection)\n"
        f"  server CPU {figures['server_cpu_s']} s; /healthz after: {alive}\n"
        f"  pure engine: {rate:,.0f} taps/s\n"
        f"  machine: {figures['cpus']} CPUs, Python {figures['python']}, load average "
        f"{figures['load_before'][0]} before, {figures['load_after'][0]} after"
    )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
