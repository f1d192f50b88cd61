"""Session fixtures for a real Bluesky network on 127.0.0.1: PLC directory, PDS, AppView, chat service.

server.js (Node, installed by `npm ci --prefix tests/support/bluesky`) runs the reference servers; the
AppView keeps its index in a schema of its own on the local PostgreSQL, dropped again at teardown. Tests act
as customers through `BlueskyStack.xrpc` (plain XRPC calls, the way any Bluesky app writes), never through
the client module under test.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from tests.support.bluesky.chat import ChatServer

HERE = Path(__file__).parent
POSTGRES_URL = os.environ.get("RESONANZ_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
INSTALL_HINT = "run `npm ci --prefix tests/support/bluesky` (the Makefile's test setup does)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Account:
    did: str
    handle: str
    password: str
    access_jwt: str
    refresh_jwt: str


@dataclass
class BlueskyStack:
    plc_url: str
    pds_url: str
    appview_url: str | None
    chat_did: str
    chat: ChatServer
    startup_seconds: float
    process: subprocess.Popen
    data_dir: Path
    schema: str | None
    jwt_secret: str = ""
    accounts: dict[str, Account] = field(default_factory=dict)
    firma: Account | None = None  # the company's account, made by the `bluesky` fixture
    kunde: Account | None = None  # a customer's

    @property
    def chat_proxy(self) -> str:
        return f"{self.chat_did}#bsky_chat"

    def create_account(self, handle: str, password: str | None = None) -> Account:
        password = password or secrets.token_urlsafe(12)
        body = self.xrpc("com.atproto.server.createAccount", data={
            "handle": handle, "email": f"{handle}@example.com", "password": password})
        account = Account(body["did"], body["handle"], password, body["accessJwt"], body["refreshJwt"])
        self.accounts[handle] = account
        return account

    def xrpc(self, method: str, account: Account | None = None, *, params: dict | None = None,
             data: dict | None = None, body: bytes | None = None, content_type: str = "",
             headers: dict | None = None, expect: int = 200) -> dict:
        """One XRPC call as a Bluesky app would make it; fails the test on an unexpected status."""
        all_headers = dict(headers or {})
        if account:
            all_headers["Authorization"] = f"Bearer {account.access_jwt}"
        url = f"{self.pds_url}/xrpc/{method}"
        if data is not None or body is not None:
            if content_type:
                all_headers["Content-Type"] = content_type
            response = requests.post(url, params=params, json=data, data=body, headers=all_headers, timeout=30)
        else:
            response = requests.get(url, params=params, headers=all_headers, timeout=30)
        assert response.status_code == expect, (method, response.status_code, response.text[:500])
        return response.json() if response.content else {}

    def post(self, account: Account, text: str, *, facets: list | None = None, reply: dict | None = None,
             langs: list[str] | None = None, rkey: str | None = None) -> dict:
        record: dict = {"$type": "app.bsky.feed.post", "text": text, "createdAt": now_iso()}
        if facets is not None:
            record["facets"] = facets
        if reply is not None:
            record["reply"] = reply
        if langs is not None:
            record["langs"] = langs
        data = {"repo": account.did, "collection": "app.bsky.feed.post", "record": record}
        if rkey:
            data["rkey"] = rkey
        return self.xrpc("com.atproto.repo.createRecord", account, data=data)

    def wait_for(self, check, timeout: float = 60.0, what: str = "the AppView to index it",
                 ignore: tuple[type[Exception], ...] = ()):
        """The AppView indexes the PDS's event stream asynchronously: poll until `check()` is truthy
        (an exception in `ignore` counts as "not yet")."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                result = check()
            except ignore:
                result = None
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # server.js shuts down cleanly when its stdin closes
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.chat.stop()
        if self.schema:
            import psycopg

            with psycopg.connect(POSTGRES_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        shutil.rmtree(self.data_dir, ignore_errors=True)


def start_stack(data_dir: Path, *, appview: bool = True, rate_limits: bool = True,
                timeout: float = 180.0) -> BlueskyStack:
    """Start PLC + PDS (+ AppView) + chat service and wait for server.js's ready line."""
    if shutil.which("node") is None:
        raise RuntimeError("node is not installed; the Bluesky test server needs Node 20")
    if not (HERE / "node_modules" / "@atproto" / "pds").is_dir():
        raise RuntimeError(f"the Bluesky test server is not installed: {INSTALL_HINT}")
    plc_port, pds_port = free_port(), free_port()
    jwt_secret = secrets.token_hex(16)
    chat = ChatServer(f"http://127.0.0.1:{plc_port}").start()
    # the AppView accepts only letters and underscores in a schema name
    schema = "rz_bsky_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(10)) if appview else None
    args = ["node", str(HERE / "server.js"), "--plc-port", str(plc_port), "--pds-port", str(pds_port),
            "--data-dir", str(data_dir), "--chat-url", chat.url, "--jwt-secret", jwt_secret]
    if appview:
        args += ["--appview-port", str(free_port()), "--appview-db", POSTGRES_URL, "--appview-schema", schema]
    if rate_limits:
        args.append("--rate-limits")
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - kept open for the server's lifetime
    started = time.monotonic()
    process = subprocess.Popen(args, cwd=HERE, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log)
    lines: queue.Queue[bytes] = queue.Queue()

    def read_stdout() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(b"")  # the server exited

    threading.Thread(target=read_stdout, daemon=True).start()
    try:
        line = lines.get(timeout=timeout)
    except queue.Empty:
        process.kill()
        raise RuntimeError(f"the Bluesky test server did not start in {timeout:.0f} s; see {log.name}") from None
    if not line:
        raise RuntimeError(f"the Bluesky test server exited: {(data_dir / 'server.log').read_text()[-2000:]}")
    ready = json.loads(line)
    chat.service.did = ready["chat_did"]
    return BlueskyStack(plc_url=ready["plc"], pds_url=ready["pds"], appview_url=ready["appview"],
                        chat_did=ready["chat_did"], chat=chat, startup_seconds=time.monotonic() - started,
                        process=process, data_dir=data_dir, schema=schema, jwt_secret=jwt_secret)


@pytest.fixture(scope="session")
def bluesky(tmp_path_factory) -> BlueskyStack:
    try:
        stack = start_stack(tmp_path_factory.mktemp("bluesky"))
    except RuntimeError as exc:
        pytest.fail(str(exc))
    stack.firma = stack.create_account("firma.test")
    stack.kunde = stack.create_account("kunde.test")
    yield stack
    stack.stop()


def validate_lexicon(nsid: str, *, output: dict | None = None, input: dict | None = None) -> None:
    """Assert that a body matches the published lexicon for `nsid` (checked by @atproto/lexicon)."""
    payload: dict = {"nsid": nsid}
    if output is not None:
        payload["output"] = output
    if input is not None:
        payload["input"] = input
    result = subprocess.run(["node", str(HERE / "validate.js")], input=json.dumps(payload).encode(),
                            capture_output=True, cwd=HERE, timeout=60)
    assert result.returncode == 0, f"{nsid}: {result.stderr.decode()}"
