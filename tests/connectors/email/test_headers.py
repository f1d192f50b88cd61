"""Header recovery as properties: however a mailer breaks the headers, the sender is found.

Each example builds a mail for a random sender, breaks it the way real mailers do, and checks
that ``parse_mail`` recovers exactly that sender (and name), or says the sender is missing when
the headers truly hold none.
"""

from __future__ import annotations

import base64

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.connectors.mail.headers import decode_value, fingerprint, one_line, split
from resonanz.connectors.mail.parse import parse_mail

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_label = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
addresses = st.builds(
    lambda local, parts, tld: f"{local}@{'.'.join(parts)}.{tld}",
    st.from_regex(r"[a-z0-9]([a-z0-9._+-]{0,14}[a-z0-9])?", fullmatch=True).filter(lambda s: ".." not in s),
    st.lists(_label, min_size=1, max_size=3), st.sampled_from(["de", "com", "example", "co.jp", "at"]),
)
names = st.lists(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyzäöüßÄÖÜéèçñ-", min_size=1, max_size=10),
                 min_size=1, max_size=3).map(" ".join)
OTHER = ["To: Kundenservice <support@resonanz.example>", "Subject: Frage zur Bestellung",
         "Date: Tue, 04 Mar 2025 09:15:00 +0100", "Message-ID: <prop@kunde.example>", "MIME-Version: 1.0",
         "Content-Type: text/plain; charset=utf-8"]
BODY = "Hallo, wo bleibt meine Bestellung?"


def _mail(lines: list[str], eol: str, leading: str = "") -> bytes:
    return (leading + eol.join(lines) + eol + eol + BODY + eol).encode("utf-8")


def _encoded(name: str) -> str:
    return "=?utf-8?b?" + base64.b64encode(name.encode()).decode() + "?="


# How mailers write (or break) the From header: (lines, whether the name survives).
FORMS = {
    "standard": lambda n, a: ([f'From: "{n}" <{a}>'], True),
    "no angle brackets": lambda n, a: ([f"From: {n} {a}"], True),
    "trailing dot": lambda n, a: ([f'From: "{n}" <{a}.>'], True),
    "bare trailing dot": lambda n, a: ([f"From: {a}."], False),
    "encoded name": lambda n, a: ([f"From: {_encoded(n)} <{a}>"], True),
    "unindented continuation": lambda n, a: ([f'From: "{n}"', f"<{a}>"], True),
    "two From headers": lambda n, a: ([f"From: {n}", f"From: <{a}>"], True),
    "Reply-To only": lambda n, a: ([f'Reply-To: "{n}" <{a}>'], True),
    "Sender only": lambda n, a: ([f"Sender: {n} <{a}>"], True),
    "name-only From, Return-Path": lambda n, a: ([f"From: {n}", f"Return-Path: <{a}>"], True),
    "X-Envelope-From": lambda n, a: ([f"X-Envelope-From: <{a}>"], False),
    "only in another header": lambda n, a: ([f"From: {n}", f"X-Kontakt: {a}"], True),
}


@FAST
@given(name=names, address=addresses, form=st.sampled_from(sorted(FORMS)), order=st.permutations(OTHER),
       eol=st.sampled_from(["\r\n", "\n"]), junk=st.sampled_from(["", "---- Original message ----\n",
                                                                     "-------- Forwarded Message --------\r\n"]),
       broken_subject=st.booleans())
def test_sender_is_recovered_however_the_headers_are_broken(name, address, form, order, eol, junk, broken_subject):
    from_lines, keeps_name = FORMS[form](name, address)
    lines = [*from_lines, *order]
    if broken_subject:  # a Subject continued on a line without indentation, before or after From
        index = lines.index("Subject: Frage zur Bestellung")
        lines[index:index + 1] = ["Subject: Frage zur Bestellung", "und zur Rechnung"]
    mail = parse_mail(_mail(lines, eol, junk))
    assert mail.from_address == address.lower() and not mail.sender_missing
    if keeps_name:
        assert mail.from_name == " ".join(name.split())
    assert mail.text.strip() == BODY
    assert mail.subject == ("Frage zur Bestellung und zur Rechnung" if broken_subject else "Frage zur Bestellung")


@FAST
@given(address=addresses, order=st.permutations(OTHER))
def test_an_mbox_from_line_is_the_envelope(address, order):
    mail = parse_mail(_mail(list(order), "\n", leading=f"From {address} Tue Mar  4 09:15:00 2025\n"))
    assert mail.from_address == address and mail.sender_source == "envelope"


@FAST
@given(order=st.permutations(OTHER), from_value=st.sampled_from(["", "undisclosed-recipients:;", "Kundin",
                                                                  "<>", "kein@", "@nirgends"]))
def test_no_address_anywhere_is_said_not_guessed(order, from_value):
    mail = parse_mail(_mail([f"From: {from_value}", *order], "\r\n"))
    assert mail.sender_missing and mail.from_address == ""
    assert mail.text.strip() == BODY  # the mail itself is kept


@FAST
@given(st.lists(st.sampled_from(OTHER + ["From: a@kunde.example", "X-Note: x", "continued line", " folded",
                                         "\t\tfolded", "", "---- x ----", "From b@kunde.example Tue",
                                         "Subject: =?utf-8?q?=FF?=", "From: \udcff"]), max_size=14),
       st.sampled_from(["\r\n", "\n", "\r"]))
def test_any_header_shape_parses_and_keeps_its_fingerprint(lines, eol):
    raw = eol.join(lines).encode("utf-8", "surrogateescape") + eol.encode() * 2 + b"body"
    mail = parse_mail(raw)
    assert mail.external_id and len(mail.fingerprint) == 64
    assert "\ufffd" not in mail.subject and "\ufffd" not in mail.from_name
    assert parse_mail(raw.replace(eol.encode(), b"\r\n")).fingerprint == mail.fingerprint


@FAST
@given(st.binary(max_size=300))
def test_header_values_never_hold_controls_or_replacement_characters(data):
    text = one_line(decode_value(data, ["gb2312", "iso-2022-jp"]))
    assert "\ufffd" not in text and not any(ord(c) < 32 or 0x7F <= ord(c) <= 0x9F for c in text)


def test_fingerprint_ignores_folding_trailing_spaces_and_trace_headers():
    one = split(b"Received: from a\r\nFrom: x@kunde.example\r\nSubject: Eine\r\n lange Zeile\r\n\r\nText  \r\n\r\n")
    two = split(b"From: x@kunde.example\nSubject: Eine lange Zeile\nReceived: from b\n\nText\n")
    other = split(b"From: x@kunde.example\nSubject: Eine lange Zeile\n\nAnderer Text\n")
    assert fingerprint(one) == fingerprint(two) != fingerprint(other)


def test_a_line_opening_the_body_is_not_taken_for_a_continuation():
    block = split(b"From: x@kunde.example\r\nContent-Type: multipart/mixed; boundary=b\r\n--b\r\n"
                  b"Content-Type: text/plain\r\n\r\nx\r\n--b--\r\n")
    assert block.first("content-type") == b"multipart/mixed; boundary=b" and block.body.startswith(b"--b")
