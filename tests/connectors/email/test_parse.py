"""The MIME parser and the noise rules on raw bytes: what survives broken and hostile mail."""

from __future__ import annotations

from email import message_from_bytes, policy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.connectors.mail import compose, noise
from resonanz.connectors.mail.parse import normalize_id, parse_mail

from . import samples

OWN = {"support@resonanz.example"}


def test_alternative_gives_plain_text_and_html_and_decodes_encoded_words():
    mail = parse_mail(samples.alternative_with_script())
    assert mail.from_name == "Jürgen König" and mail.from_address == "juergen@kunde.example"
    assert mail.subject == "Rückfrage zur Kündigung"
    assert mail.text.strip() == "Ich möchte kündigen."
    assert "<b>kündigen</b>" in mail.html or "<b>k&uuml;ndigen</b>" in mail.html
    assert mail.attachments == []


def test_wrong_and_unknown_charsets_fall_back_instead_of_failing():
    mail = parse_mail(samples.wrong_charsets())
    assert "Grüße aus Köln" in mail.text
    assert "Zweiter Teil ä" in mail.text


def test_ascii_declared_but_utf8_content_is_read_as_utf8():
    mail = parse_mail(samples.raw("From: a@kunde.example\nContent-Type: text/plain; charset=us-ascii\n\n"
                                  "Grüße".encode().decode("latin-1")).replace(b"\xc3\x83", b"\xc3"))
    assert mail.text.strip()  # never empty, never raises


def test_missing_headers_still_give_text_and_a_stable_id():
    first, again = parse_mail(samples.no_headers()), parse_mail(samples.no_headers())
    assert first.text.strip() == "nur ein Text ohne Kopfzeilen"
    assert first.from_address == "" and first.message_id == ""
    assert first.external_id == again.external_id and first.external_id.startswith("<sha256-")
    assert "no Message-ID header" in first.problems


def test_nested_multiparts_inline_image_and_attachment_names():
    mail = parse_mail(samples.nested_with_attachments())
    assert mail.text.strip() == "Siehe Bild und Rechnung."
    assert 'src="cid:bild1@kunde.example"' in mail.html
    by_name = {a["filename"]: a for a in mail.attachments}
    assert set(by_name) == {"bild.png", "Rechnung März.pdf"}
    assert by_name["bild.png"]["content_id"] == "bild1@kunde.example"
    assert by_name["bild.png"]["content_type"] == "image/png"
    assert by_name["Rechnung März.pdf"]["content"] == b"%PDF-1.4 fake"
    assert by_name["Rechnung März.pdf"]["size"] == 13


def test_attachment_over_the_limit_keeps_name_and_size_but_no_content():
    mail = parse_mail(samples.nested_with_attachments(big=300_000), max_attachment_bytes=200_000)
    big = next(a for a in mail.attachments if a["filename"] == "riesig.bin")
    assert big["size"] == 300_000 and "content" not in big and "limit" in big["omitted"]
    assert any("riesig.bin" in p for p in mail.problems)


def test_default_limit_is_25_megabytes():
    mail = parse_mail(samples.nested_with_attachments(big=26 * 1024 * 1024))
    big = next(a for a in mail.attachments if a["filename"] == "riesig.bin")
    assert "content" not in big and big["size"] == 26 * 1024 * 1024


def test_references_and_long_ids_are_normalized():
    mail = parse_mail(samples.plain(extra="In-Reply-To:  <a@b>\nReferences: <r1@x>\n <r2@x> <a@b>\n"))
    assert mail.in_reply_to == "<a@b>" and mail.references == ["<r1@x>", "<r2@x>", "<a@b>"]
    long_id = "<" + "x" * 400 + "@y>"
    assert normalize_id(long_id) == normalize_id(long_id) and len(normalize_id(long_id)) < 300


def test_noise_rules():
    def kind(raw: bytes) -> str:
        return noise.classify(parse_mail(raw), OWN).kind

    assert kind(samples.plain()) == "conversation"
    assert kind(samples.auto_reply()) == "auto_reply"
    assert kind(samples.mailing_list()) == "list"
    assert kind(samples.own_mail()) == "own"
    assert kind(samples.bounce("<ours@resonanz.example>")) == "bounce"
    assert kind(samples.plain(extra="Auto-Submitted: no\n")) == "conversation"
    assert kind(samples.plain(extra="Precedence: bulk\n")) == "list"
    assert kind(samples.plain(extra="X-Autoreply: yes\n")) == "auto_reply"
    assert kind(samples.plain(extra="Return-Path: <>\n")) == "auto_generated"
    assert kind(samples.plain(extra="Auto-Submitted: auto-generated\n")) == "auto_generated"
    assert kind(samples.plain(sender="Monitoring <noreply@monitor.example>")) == "auto_generated"


def test_bounce_report_names_the_returned_message():
    mail = parse_mail(samples.bounce("<ours@resonanz.example>"))
    assert mail.report["action"] == "failed" and mail.report["status"] == "5.1.1"
    assert "User unknown" in mail.report["diagnostic-code"]
    assert "<ours@resonanz.example>" in mail.embedded_ids
    assert noise.is_failure(mail)


def test_reply_headers_thread_and_are_not_auto_submitted():
    reply = compose.Reply(from_address="support@resonanz.example", from_name="Support", to_address="e@k.example",
                          subject="Re: Frage [RZ-7]", text="Antwort", in_reply_to="<c2@k>",
                          references=["<c1@k>", "<o1@resonanz.example>"])
    built = message_from_bytes(compose.build(reply, "<new@resonanz.example>").as_bytes(), policy=policy.default)
    assert built["In-Reply-To"] == "<c2@k>"
    assert built["References"].split() == ["<c1@k>", "<o1@resonanz.example>", "<c2@k>"]
    assert built["Message-ID"] == "<new@resonanz.example>" and "Auto-Submitted" not in built
    assert built["Subject"] == "Re: Frage [RZ-7]"


_header_names = st.sampled_from(["From", "To", "Subject", "Message-ID", "References", "In-Reply-To", "Date",
                                 "Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
                                 "Auto-Submitted", "Return-Path", "List-Id", "X-Weird"])
_header_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["=?utf-8?q?=C3=BC?=", "=?bogus?b?!!!?=", "multipart/mixed; boundary=", "base64",
                     "text/plain; charset=x-nope", "<a@b> <", "multipart/alternative; boundary=b",
                     "message/rfc822", "attachment; filename*=utf-8''%FF%FE", "\"unterminated <x@y"]),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise(data):
    mail = parse_mail(data)
    assert mail.external_id
    noise.classify(mail, OWN)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_header_names, _header_values), max_size=12),
       st.binary(max_size=500), st.sampled_from([b"", b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--\r\n"]))
def test_arbitrary_headers_and_bodies_never_raise(headers, body, tail):
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "surrogateescape")
    mail = parse_mail(head + b"\r\n" + body + tail, max_attachment_bytes=100)
    assert isinstance(mail.text, str) and isinstance(mail.subject, str)
    assert all(isinstance(a["size"], int) for a in mail.attachments)
    noise.classify(mail, OWN)
