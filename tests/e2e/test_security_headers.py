"""Every page under the Content-Security-Policy in chromium: no violation, no console error; remote images
in a message load only when the agent asks."""

from __future__ import annotations

import http.server
import os
import threading

import pytest

from resonanz.connectors import intake
from resonanz.connectors.actions import create_channel
from resonanz.connectors.intake import InboundMessage
from resonanz.inbox.actions import invite_agent
from resonanz.knowledge import actions as knowledge
from tests.e2e.helpers import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082")
SHOTS = os.environ.get("RESONANZ_SCREENSHOTS")


@pytest.fixture
def image_server():
    """A stranger's server with a tracking pixel: counts who fetched it."""
    hits: list[str] = []

    class Pixel(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PNG)))
            self.end_headers()
            self.wfile.write(PNG)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pixel)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def sign_in(page, base, email, password):
    page.goto(base + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_every_page_runs_under_the_policy(live_server, browser, image_server):
    pixel, hits = image_server
    cora = invite_agent("csp@example.com", display_name="Cora", role="admin", password="pw-csp-1234", language="de")
    channel = create_channel(kind="api", name="Shop")
    result = intake.submit(channel, [InboundMessage(
        external_id="img-1", sender_handle="news@example.com", subject="Newsletter",
        text="Hallo", html=f'<p>Hallo <img src="{pixel}/open.png?who=agent" alt="pixel"></p>'
                           '<p><a href="data:text/html,<script>alert(1)</script>">Klick</a></p>')])[0]
    contact = result.contact_id
    article = knowledge.create_article(cora, title="Rückgabe", body="So geht die **Rückgabe**.", language="de")
    base = live_server.url
    pages = [
        "/inbox/", f"/inbox/conversations/{result.conversation.pk}/", "/inbox/profile/",
        "/contacts/", f"/contacts/{contact}/", f"/contacts/{contact}/edit/", f"/contacts/{contact}/erase/",
        "/listening/",
        "/automation/rules/", "/automation/rules/new/", "/automation/slas/", "/automation/approvals/",
        "/automation/guidelines/", "/knowledge/", "/knowledge/new/", f"/knowledge/{article.pk}/",
        f"/knowledge/{article.pk}/edit/", "/knowledge/categories/", "/knowledge/transfer/",
        "/inbox/settings/channels/", "/inbox/settings/agents/", "/inbox/settings/teams/",
        "/inbox/settings/catalog/", "/inbox/settings/security/", "/inbox/settings/retention/", "/api/docs/",
        "/help/de/",
    ]
    for width in (1280, 390):
        context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 500)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m, seen=problems: seen.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e, seen=problems: seen.append(f"pageerror: {e}"))
        page.on("response", lambda r, seen=problems: seen.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        sign_in(page, base, "csp@example.com", "pw-csp-1234")
        for path in pages:
            response = page.goto(base + path)
            page.wait_for_load_state("networkidle")
            assert response.status == 200, (path, response.status)
            policy = response.headers.get("content-security-policy", "")
            assert "script-src 'self'" in policy and "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
            assert not problems, (width, path, problems)
            if SHOTS:
                name = path.strip("/").replace("/", "_") or "root"
                page.screenshot(path=os.path.join(SHOTS, f"{width}-{name}.png"), full_page=True)
        context.close()
    # The API docs really rendered (their start-up script is a file, allowed by the policy).
    assert not hits, "a remote image loaded without the agent asking"


def test_remote_images_load_only_when_asked(live_server, page, image_server):
    pixel, hits = image_server
    invite_agent("img@example.com", role="agent", password="pw-img-1234")
    channel = create_channel(kind="api", name="Shop")
    result = intake.submit(channel, [InboundMessage(
        external_id="img-2", sender_handle="news@example.com", text="Hallo",
        html=f'<p>Angebot <img src="{pixel}/track.png" alt="pixel"></p>')])[0]
    sign_in(page, live_server.url, "img@example.com", "pw-img-1234")
    page.goto(f"{live_server.url}/inbox/conversations/{result.conversation.pk}/")
    page.wait_for_load_state("networkidle")
    assert hits == []
    assert page.locator(".message .load-images").is_visible()
    page.click(".message .load-images")
    wait_until(page, "document.querySelector('.message .body img').naturalWidth > 0")
    assert hits == ["/track.png"]
    assert page.locator(".message .load-images").count() == 0


def test_docs_render_under_the_policy(live_server, page):
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(live_server.url + "/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=60_000)
    assert "Resonanz API" in page.inner_text(".swagger-ui .info")
    assert not errors, errors
