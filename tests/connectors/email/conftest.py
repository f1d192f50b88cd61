"""Real servers for the email channel: Dovecot (IMAP, with STARTTLS) and aiosmtpd (SMTP, STARTTLS + AUTH).

Dovecot runs from a config of its own in a temporary directory, on a free port of 127.0.0.1.
Its static passdb accepts any user name with the password "secret", so every test logs in as a
fresh user and gets an empty mailbox.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import uuid
import warnings
from dataclasses import dataclass, field

import pytest
from imapclient import IMAPClient

PASSWORD = "secret"
SMTP_USER, SMTP_PASSWORD = "relay-user", "relay-pass"
FROM_ADDRESS = "support@resonanz.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@dataclass
class Certificate:
    cert: str
    key: str


@pytest.fixture(scope="session")
def certificate() -> Certificate:
    """A self-signed certificate for 127.0.0.1, made by the openssl command Debian ships."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    directory = tempfile.mkdtemp(prefix="rz-tls-")
    os.chmod(directory, 0o755)
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)
    yield Certificate(cert, key)
    shutil.rmtree(directory, ignore_errors=True)


DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 0
{extra}
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={dir}/mail/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass
class Dovecot:
    port: int
    ca_file: str
    directory: str
    host: str = "127.0.0.1"

    def client(self, user: str, password: str = PASSWORD) -> IMAPClient:
        client = IMAPClient(self.host, port=self.port, ssl=False, timeout=10)
        client.starttls(ssl.create_default_context(cafile=self.ca_file))
        client.login(user, password)
        return client


@pytest.fixture(scope="session")
def dovecot(certificate) -> Dovecot:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
    if binary is None:
        reason = "Dovecot is not installed (apt-get install dovecot-imapd; .ci/run does this)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    directory = tempfile.mkdtemp(prefix="rz-dovecot-")
    os.chmod(directory, 0o755)
    os.makedirs(os.path.join(directory, "mail"))
    os.chmod(os.path.join(directory, "mail"), 0o777)
    if os.geteuid() == 0:
        user, group, extra = "nobody", "nogroup", ""
    else:  # unprivileged: every Dovecot process runs as the current user
        import grp
        import pwd

        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
        extra = f"default_internal_user = {user}\ndefault_login_user = {user}\ndefault_internal_group = {group}"
    port = free_port()
    config = os.path.join(directory, "dovecot.conf")
    with open(config, "w") as f:
        f.write(DOVECOT_CONF.format(dir=directory, cert=certificate.cert, key=certificate.key, port=port,
                                    user=user, group=group, extra=extra, password=PASSWORD))
    # The daemon forks away from us: its output goes to a file, not to pipes it would keep open.
    log = os.path.join(directory, "dovecot.log")
    with open(os.path.join(directory, "start.log"), "w+") as out:
        started = subprocess.run([binary, "-c", config], stdout=out, stderr=out, stdin=subprocess.DEVNULL)
        out.seek(0)
        if started.returncode != 0:
            pytest.fail(f"dovecot did not start: {out.read()}")
    try:
        _wait_for(port)
    except RuntimeError:
        pytest.fail("dovecot did not listen: " + (open(log).read() if os.path.exists(log) else ""))
    yield Dovecot(port=port, ca_file=certificate.cert, directory=directory)
    pid_file = os.path.join(directory, "run", "master.pid")
    if os.path.exists(pid_file):
        pid = int(open(pid_file).read().strip())
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.05)
    shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Mailbox:
    """A fresh IMAP account; tests put mail in with APPEND, as a delivery agent would."""

    server: Dovecot
    user: str

    def append(self, raw: bytes, folder: str = "INBOX", flags: tuple = ()) -> None:
        with self.server.client(self.user) as client:
            client.append(folder, raw, flags=flags)

    def flags(self, folder: str = "INBOX") -> dict[int, tuple]:
        with self.server.client(self.user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search("ALL")
            return {uid: data[b"FLAGS"] for uid, data in client.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def count(self, folder: str = "INBOX") -> int:
        with self.server.client(self.user) as client:
            if not client.folder_exists(folder):
                return 0
            return client.folder_status(folder, ["MESSAGES"])[b"MESSAGES"]


@pytest.fixture
def mailbox(dovecot) -> Mailbox:
    return Mailbox(dovecot, f"support-{uuid.uuid4().hex[:10]}")


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class SmtpServer:
    port: int
    messages: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"


class _Collect:
    def __init__(self, server: SmtpServer):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture(scope="session")
def smtp_server(certificate) -> SmtpServer:
    """aiosmtpd offering STARTTLS and requiring AUTH (also without TLS, so plain mode is testable)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    server = SmtpServer(port=free_port())

    def authenticator(smtp, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == SMTP_USER
              and auth_data.password.decode() == SMTP_PASSWORD)
        if ok:
            server.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate.cert, certificate.key)
    with warnings.catch_warnings():  # AUTH without TLS is allowed on purpose: the "none" mode is tested
        warnings.simplefilter("ignore")
        controller = Controller(_Collect(server), hostname="127.0.0.1", port=server.port, tls_context=context,
                                authenticator=authenticator, auth_required=True, auth_require_tls=False,
                                # aiosmtpd's LOGIN ignores smtplib's initial response and waits forever
                                auth_exclude_mechanism=["LOGIN"])
        controller.start()
    yield server
    controller.stop()


@pytest.fixture
def smtp(smtp_server) -> SmtpServer:
    smtp_server.messages.clear()
    smtp_server.logins.clear()
    return smtp_server


def channel_settings(dovecot: Dovecot, smtp_server: SmtpServer, **overrides) -> dict:
    settings = {
        "imap_host": dovecot.host, "imap_port": dovecot.port, "imap_security": "starttls",
        "imap_folder": "INBOX", "processed": "flag",
        "smtp_host": smtp_server.host, "smtp_port": smtp_server.port, "smtp_security": "starttls",
        "from_address": FROM_ADDRESS, "from_name": "Resonanz Support", "tls_ca_file": dovecot.ca_file,
    }
    settings.update(overrides)
    return settings


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Attachments of test mail are written to a temporary directory, not the instance's media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def email_channel(db, dovecot, smtp_server, mailbox):
    from resonanz.connectors.actions import create_channel

    return create_channel(kind="email", name="Support mail", settings=channel_settings(dovecot, smtp_server),
                          credentials={"imap_username": mailbox.user, "imap_password": PASSWORD,
                                       "smtp_username": SMTP_USER, "smtp_password": SMTP_PASSWORD})
