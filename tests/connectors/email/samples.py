"""Mail as it arrives in real mailboxes, including broken and hostile specimens, as raw bytes."""

from __future__ import annotations

import base64

CRLF = b"\r\n"


def raw(text: str | bytes) -> bytes:
    """Lines joined with CRLF, as on the wire; bytes keep their (possibly wrong) encoding."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    return CRLF.join(data.strip(b"\n").split(b"\n")) + CRLF


def plain(message_id: str = "<m1@kunde.example>", sender: str = "Erika Muster <erika@kunde.example>",
          subject: str = "Bestellung 4711 fehlt", body: str = "Hallo, meine Bestellung ist nicht angekommen.",
          extra: str = "") -> bytes:
    headers = f"From: {sender}\nTo: support@resonanz.example\nSubject: {subject}\n"
    if message_id:
        headers += f"Message-ID: {message_id}\n"
    headers += "Date: Mon, 03 Mar 2025 10:00:00 +0100\n" + extra
    return raw(headers + "Content-Type: text/plain; charset=utf-8\n\n" + body)


def alternative_with_script() -> bytes:
    return raw("""\
From: =?utf-8?q?J=C3=BCrgen_K=C3=B6nig?= <juergen@kunde.example>
To: support@resonanz.example
Subject: =?iso-8859-1?q?R=FCckfrage_zur_K=FCndigung?=
Message-ID: <alt@kunde.example>
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

Ich m=C3=B6chte k=C3=BCndigen.
--alt
Content-Type: text/html; charset=utf-8

<p>Ich m&ouml;chte <b>k&uuml;ndigen</b>.</p><script>alert('x')</script><img src=x onerror="alert(1)">
<a href="javascript:alert(2)">klick</a>
--alt--
""")


def wrong_charsets() -> bytes:
    """Says UTF-8 but is Latin-1; a second part names a charset nobody knows."""
    return raw(b"""\
From: hans@kunde.example
Subject: Umlaute
Message-ID: <charset@kunde.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain; charset=utf-8

Gr\xfc\xdfe aus K\xf6ln
--b
Content-Type: text/plain; charset=x-unknown-klingon

Zweiter Teil \xe4
--b--
""")


def no_headers() -> bytes:
    """No From, no Message-ID, no Date, no Subject: nothing to reply to."""
    return raw("\nnur ein Text ohne Kopfzeilen\n")


def missing_message_id(body: str = "Ohne Message-ID") -> bytes:
    return plain(message_id="", sender="ohne-id@kunde.example", subject="ID fehlt", body=body)


def nested_with_attachments(big: int = 0) -> bytes:
    """mixed > related > alternative, an inline image, a PDF and optionally a huge attachment."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64).decode()
    pdf = base64.b64encode(b"%PDF-1.4 fake").decode()
    parts = f"""\
From: Lisa <lisa@kunde.example>
Subject: Rechnung mit Bild
Message-ID: <nested@kunde.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="mix"

--mix
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=us-ascii

Siehe Bild und Rechnung.
--alt
Content-Type: text/html; charset=us-ascii

<p>Siehe <img src="cid:bild1@kunde.example"> und Rechnung.</p>
--alt--
--rel
Content-Type: image/png; name="bild.png"
Content-ID: <bild1@kunde.example>
Content-Disposition: inline; filename="bild.png"
Content-Transfer-Encoding: base64

{png}
--rel--
--mix
Content-Type: application/pdf; name="=?utf-8?q?Rechnung_M=C3=A4rz.pdf?="
Content-Disposition: attachment; filename*=utf-8''Rechnung%20M%C3%A4rz.pdf
Content-Transfer-Encoding: base64

{pdf}
"""
    if big:
        blob = base64.encodebytes(b"\xab" * big).decode()
        parts += f"""--mix
Content-Type: application/octet-stream; name="riesig.bin"
Content-Disposition: attachment; filename="riesig.bin"
Content-Transfer-Encoding: base64

{blob}
"""
    return raw(parts + "--mix--\n")


def auto_reply(in_reply_to: str = "<x@resonanz.example>") -> bytes:
    return plain(message_id="<ooo@kunde.example>", subject="Abwesenheitsnotiz: Re: Bestellung",
                 body="Ich bin bis Montag nicht im Büro.",
                 extra=f"Auto-Submitted: auto-replied\nIn-Reply-To: {in_reply_to}\n")


def mailing_list() -> bytes:
    return plain(message_id="<list@lists.example>", sender="news@lists.example", subject="Newsletter März",
                 body="Unsere Angebote", extra="List-Id: <news.lists.example>\nPrecedence: list\n")


def own_mail() -> bytes:
    return plain(message_id="<own@resonanz.example>", sender="Support <support@resonanz.example>",
                 subject="Unsere eigene Mail", body="Kopie an uns selbst")


def bounce(original_id: str, recipient: str = "erika@kunde.example") -> bytes:
    """An RFC 3464 delivery status notification returning one of our replies."""
    return raw(f"""\
From: Mail Delivery System <MAILER-DAEMON@mx.resonanz.example>
To: support@resonanz.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-1@mx.resonanz.example>
Return-Path: <>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="rep"

--rep
Content-Type: text/plain; charset=us-ascii

This is the mail system. Your message could not be delivered.
--rep
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.resonanz.example

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown
--rep
Content-Type: text/rfc822-headers

From: support@resonanz.example
To: {recipient}
Subject: Re: Bestellung [RZ-1]
Message-ID: {original_id}
--rep--
""")


def hostile_attachment_names() -> bytes:
    parts = "".join(f"""--b
Content-Type: application/octet-stream
Content-Disposition: attachment; filename="{name}"

data
""" for name in ("..", "../../etc/passwd", "a." + "x" * 200, "y" * 300 + ".txt", "!!!"))
    return raw(f"""\
From: evil@kunde.example
Subject: Dateinamen
Message-ID: <names@kunde.example>
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

Anhang
{parts}--b--
""")
