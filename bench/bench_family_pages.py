"""Benchmark: the family site on a cheap phone, each page's transferred size and time to
usable on an emulated slow 3G connection in Chromium.

Starts a real ``taptrail serve`` process (SQLite in a temporary folder, no Redis, tiles
off) on a loopback port, loads the factory town's game, and in Debian's Chromium at 390 px
opens an account for a player of 13 or over with a card player and a phone player. Then each
page is opened cold (browser cache off, as on a first visit) with the network throttled
through the DevTools protocol to "3G slow" as WebPageTest defines it (400 ms round trip,
400 kbit/s down and up). For each page it records the bytes transferred (compressed, as
sent: the page, its stylesheets, scripts and images; the map's tiles are not counted and
none are fetched) and, from the start of navigation: the first contentful paint (the page
drawn), DOMContentLoaded (its deferred scripts have run: it answers to taps), the end of
the load event and, on the map page, when the map is drawn (Leaflet arrives after the page
is drawn). Usable = drawn and its scripts run. Targets: under 150 KB and usable within 2 s.
Each page is then opened a second time with the cache on: the static files come from the
browser's cache, the page itself does not (no-store). For scale it prints the pure scoring
engine's rate on this machine.

    .venv/bin/python bench/bench_family_pages.py
    .venv/bin/python bench/bench_family_pages.py --json family-pages.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_unauth_bodies import engine_rate, start_server  # noqa: E402
from processes import stop_processes  # noqa: E402

from harness.game_files import game_file  # noqa: E402

CHROMIUM = os.environ.get("TAPTRAIL_CHROMIUM", "/usr/bin/chromium")
SLOW_3G = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 50_000,
    "uploadThroughput": 50_000,
}
PASSWORD = "green kettle umbrella 7"
SIZE_TARGET = 150 * 1024
TIME_TARGET = 2.0


def load_game(folder: Path, env: dict[str, str]) -> str:
    from datetime import UTC, datetime, timedelta

    slug = "bench-family"
    data = game_file(slug)
    now = datetime.now(UTC)
    data["game"]["starts_at"] = (now - timedelta(days=5)).isoformat()
    data["game"]["ends_at"] = (now + timedelta(days=30)).isoformat()
    data["game"]["name"] = "Burnley Beat"
    path = folder / "game.yaml"
    path.write_text(yaml.safe_dump(data))
    done = subprocess.run(
        [sys.executable, "-m", "taptrail.cli", "game", "load", str(path)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return slug


def measure(page: Any, cdp: Any, url: str) -> dict[str, Any]:
    sizes: dict[str, int] = {}
    hosts: dict[str, str] = {}

    def sent(event: dict[str, Any]) -> None:
        hosts[event["requestId"]] = event["request"]["url"]

    def finished(event: dict[str, Any]) -> None:
        sizes[event["requestId"]] = int(event["encodedDataLength"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    page.goto(url, wait_until="load")
    page.wait_for_function(  # the first paint's entry is queued after the paint itself
        "() => performance.getEntriesByName('first-contentful-paint').length > 0", timeout=10_000
    )
    timing = page.evaluate(
        """() => { const n = performance.getEntriesByType("navigation")[0];
        const paint = performance.getEntriesByName("first-contentful-paint")[0];
        return {load: n.loadEventEnd - n.startTime, ready: n.domContentLoadedEventEnd - n.startTime,
                paint: paint ? paint.startTime : null}; }"""
    )
    drawn = None
    if page.locator("#map").count():
        # The map is drawn once Leaflet has arrived and run (it does not hold up the page).
        page.wait_for_selector(".leaflet-marker-icon", state="attached", timeout=30_000)
        drawn = page.evaluate("performance.now()") / 1000
    page.wait_for_timeout(300)  # late loadingFinished events
    cdp.remove_listener("Network.requestWillBeSent", sent)
    cdp.remove_listener("Network.loadingFinished", finished)
    own = [n for rid, n in sizes.items() if hosts.get(rid, "").startswith("http://127.0.0.1")]
    if os.environ.get("BENCH_VERBOSE"):
        for rid, n in sizes.items():
            print(f"    {n:8d} {hosts.get(rid, '?')[:100]}")
    return {
        "bytes": sum(own),
        "requests": len(own),
        "paint_s": round(timing["paint"] / 1000, 2) if timing["paint"] is not None else None,
        "ready_s": round(timing["ready"] / 1000, 2),
        "load_s": round(timing["load"] / 1000, 2),
        "map_s": round(drawn, 2) if drawn is not None else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the figures here as JSON too")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    os.environ["TAPTRAIL_MAP_TILES_URL"] = "none"  # the server's environment: no tiles
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        proc, url, _ = start_server(folder)
        env = {
            **os.environ,
            "TAPTRAIL_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bench.db'}",
            "TAPTRAIL_SECRET_KEY_FILE": str(folder / "taptrail.key"),
            "PYTHONPATH": str(ROOT),
        }
        try:
            slug = load_game(folder, env)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                context = browser.new_context(viewport={"width": 390, "height": 844})
                # No request routing here: Playwright turns the browser's cache off when
                # requests are routed, and the second visit measures the cache. The server
                # has tiles off, so nothing asks for another host.
                page = context.new_page()
                page.goto(url + "/family/create")
                page.check("input[name=kind][value=code]")
                page.check("#age_13")
                page.fill("#password", PASSWORD)
                page.fill("#confirm", PASSWORD)
                page.click("form[action='/family/create'] button[type=submit]")
                page.goto(f"{url}/family/add?game={slug}")
                page.fill("#card_number", "0000004")
                page.fill("#activation_code", "K004")
                page.fill("#nickname", "Swift Kestrel")
                page.check("input[name=age_band][value='16-24']")
                page.check("input[name=gender][value=prefer_not_to_say]")
                page.click("form[action='/family/add'] button[type=submit]")
                page.wait_for_load_state()
                player = page.locator(
                    "a[href^='/family/players/']:not([href$='/check-in'])"
                ).first.get_attribute("href")
                pages = [
                    "/",
                    f"/games/{slug}",
                    f"/games/{slug}/boxes",
                    "/privacy",
                    "/family/accessibility",
                    "/family/sign-in",
                    "/family/",
                    f"/family/add?game={slug}",
                    str(player),
                    f"{player}/check-in",
                    "/family/data",
                ]
                cdp = context.new_cdp_session(page)
                cdp.send("Network.enable")
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
                cdp.send("Network.emulateNetworkConditions", SLOW_3G)
                rows = {}
                for path in pages:
                    rows[path] = measure(page, cdp, url + path)
                # A second visit: the static files come from the browser's cache (a year
                # for vendored libraries and fingerprinted files); the page itself is not
                # cached (no-store).
                cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
                for path in pages:
                    page.goto(url + path, wait_until="load")  # fills the cache
                    rows[path]["warm"] = measure(page, cdp, url + path)
                browser.close()
        finally:
            stop_processes([proc])
    rate = engine_rate()
    print(
        f"machine: {platform.python_version()}, {os.cpu_count()} CPUs, pure engine {rate:,.0f} taps/s"
    )
    print("first visit (cache empty); second visit: static files from the browser's cache")
    head = f"{'page':<34} {'KB':>5} {'req':>3} {'paint':>6} {'ready':>6} {'load':>6} {'map':>5}"
    print(f"{head} | {'KB':>5} {'paint':>6} {'ready':>6} {'load':>6}")
    for path, row in rows.items():
        shown = path.replace(slug, "{slug}").replace("/family/players/1", "/family/players/{id}")
        usable = max(row["paint_s"] or 99, row["ready_s"])
        flag = "" if row["bytes"] < SIZE_TARGET and usable < TIME_TARGET else "  over"
        warm = row["warm"]
        drawn = f"{row['map_s']:5.2f}" if row["map_s"] is not None else f"{'':5}"
        print(
            f"{shown:<34} {row['bytes'] / 1024:5.1f} {row['requests']:3d} "
            f"{row['paint_s'] or 0:6.2f} {row['ready_s']:6.2f} {row['load_s']:6.2f} {drawn} | "
            f"{warm['bytes'] / 1024:5.1f} {warm['paint_s'] or 0:6.2f} {warm['ready_s']:6.2f} "
            f"{warm['load_s']:6.2f}{flag}"
        )
    if args.json:
        args.json.write_text(json.dumps({"engine_taps_per_s": rate, "pages": rows}, indent=2))


if __name__ == "__main__":
    main()
