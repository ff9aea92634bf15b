"""What the console's browser tests share: axe-core with a screenshot, signing in, moving
by the keyboard. The server and the browser are fixtures (``tests/staff/conftest.py``)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import Page

from tests.staff.conftest import ConsoleServer
from tests.staff.staff_helpers import PASSWORD

AXE = Path(__file__).parent / "assets" / "axe-core-4.14.1" / "axe.min.js"
SHOTS = Path("/tmp/taptrail-console")


def axe(page: Page, name: str, server: ConsoleServer) -> list[str]:
    """axe-core's violations on the page (WCAG 2.2 A and AA and best practice), column
    headings with a word broken across lines, and a screenshot for a person to look at, on the run that sweeps (``server.sweeps``);
    nothing on the other."""
    if not server.sweeps:
        return []
    SHOTS.mkdir(exist_ok=True)
    width = page.viewport_size["width"] if page.viewport_size else 0
    page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => (await axe.run(document, {runOnly: {type: "tag", values:
        ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})).violations
        .map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))"""
    )
    found = [f"{name} at {width}px: {line}" for line in json.loads(json.dumps(result))]
    found += [f"{name} at {width}px: heading word broken: {w}" for w in broken_headings(page)]
    return found


# Every word of every column heading, as line boxes: a word on two lines was broken inside.
BROKEN_HEADINGS = """() => {
  const broken = [];
  for (const th of document.querySelectorAll("thead th")) {
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const found of node.textContent.matchAll(/\\S+/g)) {
        const range = document.createRange();
        range.setStart(node, found.index);
        range.setEnd(node, found.index + found[0].length);
        const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
        if (lines.size > 1) broken.push(found[0]);
      }
    }
  }
  return broken;
}"""


def broken_headings(page: Page) -> list[str]:
    """The words of the page's column headings that are broken across lines."""
    found: list[str] = page.evaluate(BROKEN_HEADINGS)
    return found


def sign_in(page: Page, url: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{url}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/console/.*"))


def tab_to(page: Page, check: str, limit: int = 80) -> None:
    """Presses Tab until the script ``check`` is true of the focused element."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(check):
            return
    raise AssertionError(f"never reached by Tab: {check}")
