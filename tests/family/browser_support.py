"""What the family site's browser tests share: a real server on a backend (``serve``), the
axe-core and screenshot checker, and a local HTTPS tile server for the map.

Debian's Chromium (/usr/bin/chromium) runs the pages; screenshots go to /tmp/family-shots/
for a person to look at."""

from __future__ import annotations

import ipaddress
import json
import re
import ssl
import struct
import subprocess
import sys
import threading
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import yaml
from cryptography import x509
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Page

from checkpoints.signing import SIGNATURE_HEADER, sign
from harness.game_files import game_file
from harness.servers import app_env, app_server, free_port
from tests.conftest import REDIS_PREFIX, REDIS_URL

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "tests" / "staff" / "assets" / "axe-core-4.14.1" / "axe.min.js"
SHOTS = Path("/tmp/family-shots")
PASSWORD = "green kettle umbrella 7"
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}


@dataclass
class Server:
    url: str
    env: dict[str, str]
    folder: Path
    backend: str

    def load_game(self) -> str:
        """A game of the factory town running from 20 days ago to 20 days ahead."""
        slug = f"famb-{uuid.uuid4().hex[:8]}"
        data = game_file(slug)
        now = datetime.now(UTC)
        data["game"]["starts_at"] = (now - timedelta(days=20)).isoformat()
        data["game"]["ends_at"] = (now + timedelta(days=20)).isoformat()
        data["game"]["name"] = f"Burnley Beat {slug[-4:]}"
        data["game"]["instruments"] = ["activity", "belonging", "nature", "ons4", "loneliness"]
        path = self.folder / f"{slug}.yaml"
        path.write_text(yaml.safe_dump(data))
        done = subprocess.run(
            [sys.executable, "-m", "taptrail.cli", "game", "load", str(path)],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        # The organisers open the survey at registration.
        made = subprocess.run(
            [sys.executable, "-m", "taptrail.cli", "token", "create", "--role", "organiser"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert made.returncode == 0, made.stderr
        token = made.stdout.strip().splitlines()[-1]
        opened = httpx.post(
            f"{self.url}/api/v1/admin/games/{slug}/surveys/1/open",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert opened.status_code == 200, opened.text
        return slug

    def upload(self, slug: str, card: int, taps: list[tuple[str, datetime]]) -> None:
        """Each box uploads its tap of the card, signed as a box signs it."""
        for seq, (code, at) in enumerate(taps, start=1):
            stamp = at.astimezone(UTC).isoformat().replace("+00:00", "Z")
            raw = json.dumps(
                {
                    "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                    "boot": 0,
                    "taps": [{"seq": seq, "card_uid": f"04{card:012X}", "tapped_at": stamp}],
                }
            ).encode()
            secret = f"{slug}-{code}-" + "s" * 32
            answer = httpx.post(
                f"{self.url}/api/v1/readers/R-{slug}-{code}/taps",
                content=raw,
                headers={"content-type": "application/json", SIGNATURE_HEADER: sign(secret, raw)},
            )
            assert answer.status_code == 200, answer.text


@contextmanager
def serve(
    backend: str, database_url: str, folder: Path, extra: dict[str, str] | None = None
) -> Iterator[Server]:
    """``taptrail`` under uvicorn on a free port, on the backend's database (and Redis)."""
    env = app_env(
        database_url=database_url,
        secret_key=Fernet.generate_key().decode(),
        periodic_jobs="false",
    ) | (extra or {})
    if backend == "postgres":
        env["TAPTRAIL_REDIS_URL"] = REDIS_URL
        env["TAPTRAIL_REDIS_PREFIX"] = REDIS_PREFIX
    # A folder may serve twice (tiles on, then off): each server its own log.
    with app_server(env, folder / f"server-{uuid.uuid4().hex[:8]}.log") as url:
        yield Server(url, env, folder, backend)


class Checker:
    """axe-core at phone and desktop width on each page visited, with screenshots."""

    def __init__(self, page: Page, prefix: str, *, active: bool) -> None:
        self.page = page
        self.prefix = prefix
        self.active = active
        self.found: list[str] = []
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        SHOTS.mkdir(exist_ok=True)

    def __call__(self, name: str) -> None:
        if not self.active:
            return
        page = self.page
        for size in (WIDE, PHONE):  # ends at phone width, where the journey runs
            page.set_viewport_size(size)
            page.screenshot(
                path=str(SHOTS / f"{self.prefix}-{name}-{size['width']}.png"), full_page=True
            )
            if not page.evaluate("typeof axe !== 'undefined'"):
                page.add_script_tag(path=str(AXE))
            result: list[str] = page.evaluate(
                """async () => (await axe.run(document, {runOnly: {type: "tag", values:
                ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}))
                .violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" "))
                .join(", "))"""
            )
            self.found += [f"{name} at {size['width']}px: {line}" for line in result]
        overflow = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        if overflow:
            self.found.append(f"{name}: wider than a 390 px screen")


# ---------------------------------------------------------------- a local tile server

TILE_PATH = re.compile(r"^/(\d+)/(\d+)/(\d+)\.png$")


def tile_png() -> bytes:
    """A 256 px tile: pale land crossed by white streets every 64 px (about 1 KB)."""
    rows = b"".join(
        b"\0"
        + b"".join(
            bytes((252, 252, 248) if px % 64 < 3 or py % 64 < 3 else (224, 232, 214))
            for px in range(256)
        )
        for py in range(256)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", 256, 256, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 9))
        + chunk(b"IEND", b"")
    )


@dataclass
class TileServer:
    """Answers ``/{z}/{x}/{y}.png`` with the same PNG, any other path with 404, and keeps the
    paths it was asked for."""

    template: str
    requested: list[str] = field(default_factory=list)


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the tile setting takes https only)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "tiles.crt", folder / "tiles.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@contextmanager
def tile_server(folder: Path) -> Iterator[TileServer]:
    """An HTTPS tile server on a free port of 127.0.0.1, in a thread of the test process.
    Browsers must be told to accept its certificate (``ignore_https_errors``)."""
    png = tile_png()
    port = free_port()
    tiles = TileServer(f"https://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            tiles.requested.append(self.path)
            if TILE_PATH.match(self.path) is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.send_header("Access-Control-Allow-Origin", "*")
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, format: str, *args: object) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_certificate(folder))
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield tiles
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)
