"""What every browser test of the desk checks: no console error, no failed request, nothing wider than the
screen; plus logging in and a screenshot under var/screenshots (ignored by git) for a person to look at."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
SCREENSHOTS = Path(os.environ.get("RESONANZ_SCREENSHOTS", Path(__file__).resolve().parents[2] / "var" / "screenshots"))


class Watched:
    """A page whose console errors, uncaught exceptions, failed requests and 5xx answers are collected."""

    def __init__(self, browser, size: str, language: str = "de"):
        viewport = WIDTHS[size]
        self.size = size
        self.context = browser.new_context(viewport=viewport, is_mobile=size == "phone",
                                           locale="de-DE" if language == "de" else "en-US")
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"javascript: {e}"))
        self.page.on("requestfailed", lambda r: self._failed(r))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 500 else None)

    def _failed(self, request) -> None:
        # a poll cut off by the next navigation is not a failure
        if "net::ERR_ABORTED" not in (request.failure or ""):
            self.problems.append(f"request failed: {request.url} {request.failure}")

    def login(self, base: str, email: str, password: str, path: str = "/inbox/") -> None:
        self.page.goto(base + path)
        self.page.fill("input[name=username]", email)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def check(self, name: str | None = None) -> None:
        """No problems so far and no horizontal overflow; store a screenshot when named."""
        page = self.page
        overflow = page.evaluate("""() => {
            const w = document.documentElement.clientWidth, out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.width && r.right > w + 1 && getComputedStyle(el).position !== 'fixed'
                    && !el.closest('.mainnav')) out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
            }
            return {scroll: document.documentElement.scrollWidth, width: w, out: out.slice(0, 5)};
        }""")
        if name:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            safe = re.sub(r"[^a-z0-9_-]+", "_", name.lower())
            page.screenshot(path=str(SCREENSHOTS / f"{safe}-{self.size}.png"), full_page=True)
        assert not self.problems, self.problems
        assert overflow["scroll"] <= overflow["width"] and not overflow["out"], f"wider than the screen: {overflow}"

    def box(self, selector: str) -> dict:
        box = self.page.locator(selector).first.bounding_box()
        assert box is not None, f"{selector} is not visible"
        return box

    def close(self) -> None:
        self.context.close()


def wait_until(page, expression: str, timeout: float = 10000) -> None:
    """``page.wait_for_function`` without its in-page polling: Playwright re-evaluates the predicate with
    ``eval``, which the desk's Content-Security-Policy (no 'unsafe-eval') refuses. Each check here is one
    ``page.evaluate`` from the test, which a CSP does not govern."""
    body = expression if expression.lstrip().startswith(("()", "function")) else f"() => ({expression})"
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(body):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} ms waiting for: {expression}")
        page.wait_for_timeout(100)
