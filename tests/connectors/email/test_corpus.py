"""What must come out of every mail in the fixture corpus (corpus/README.md lists the classes).

``EXPECTED`` states per fixture the sender, subject, a body snippet and the attachment names; the
same table is checked on the stored messages by ``test_corpus_imap.py``. Beyond the table, every
fixture must keep the invariants a user would notice: no control characters or escape
sequences anywhere, no replacement character in a subject or name, no remote image source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

from resonanz.connectors.mail import noise
from resonanz.connectors.mail.parse import ParsedMail, parse_mail

CORPUS = Path(__file__).parent / "corpus"
OWN = {"support@resonanz.example"}


@dataclass(frozen=True)
class Expect:
    sender: str | None  # the address; None: no sender anywhere (stored under an unknown sender)
    subject: str
    snippet: str  # must be in the text
    attachments: tuple[str, ...] = ()
    name: str = ""
    noise: str | None = None  # stored with this noise kind
    html: str = ""  # must be in the (sanitized) HTML
    same_as: str = ""  # the same mail as that fixture: stored once


EXPECTED: dict[str, Expect] = {
    "b01-text-then-html-signature.eml": Expect(
        "max@mustermann-gmbh.example", "Lieferung KW 11", "Auftrag 7788?\n\n--\nMax Mustermann\nMustermann GmbH",
        name="Max Mustermann", html="<b>Max Mustermann</b>"),
    "b02-zero-byte-phantom-attachment.eml": Expect(
        "ute.krueger@kunde.example", "Rechnung anbei", "Anbei die Rechnung.", ("Rechnung.pdf",), name="Ute Krueger"),
    "b03-text-image-text.eml": Expect(
        "lisa.frank@kunde.example", "Kratzer am Tisch", "den Kratzer:\n\nBitte um Ersatz der Tischplatte.",
        ("kratzer.png",), name="Lisa Frank"),
    "b04-alternative-related-attachment.eml": Expect(
        "daniel.schwarz@kunde.example", "Angebot mit Logo", "Bitte senden Sie uns ein Angebot.",
        ("Anfrage.pdf", "logo.png"), name="Daniel Schwarz", html='src="cid:logo@kunde.example"'),
    "b05-html-then-html-signature.eml": Expect(
        "clara.weber@kunde.example", "Frage zum Abo", "Kann ich mein Abo pausieren?\n\nClara Weber | Telefon",
        name="Clara Weber", html="<div>Clara Weber | Telefon 030 123456</div>"),
    "b06-forwarded-message-attached.eml": Expect(
        "rolf.hartmann@kunde.example", "WG: Ihre Mahnung", "ich habe bezahlt", ("message.eml",), name="Rolf Hartmann"),
    "b07-calendar-invitation.eml": Expect(
        "eva.brandt@kunde.example", "Einladung: Abstimmung Rollout", "am 12.03. um 10 Uhr", ("invite.ics",),
        name="Eva Brandt", html="<b>12.03.</b>"),
    "b08-empty-parts.eml": Expect(
        "tim.keller@kunde.example", "Ruecksendung Etikett", "Ich brauche ein neues Ruecksendeetikett.",
        name="Tim Keller"),
    "c01-gb2312-label-gbk-text.eml": Expect(
        "wang.xiaoming@kunde.example.cn", "订单问题：朱镕基传记", "我订购的《朱镕基传记》还没有收到", name="王小明"),
    "c02-iso2022jp-nec-characters.eml": Expect(
        "hanako@yamada-shoji.example.jp", "①番の件：㈱山田商事", "①と②の商品について、㈱山田商事の山田です", name="山田花子"),
    "c03-shift-jis-labelled-iso2022jp.eml": Expect(
        "ichiro.sato@kunde.example.jp", "返品の手続きについて", "商品を返品したいのですが", name="佐藤一郎"),
    "c04-raw-utf8-headers.eml": Expect(
        "zoe.angstrom@kunde.example", "Frage zur Rechnung – Umlaute äöü", "statt Größe", name="Zoë Ångström"),
    "c05-raw-latin1-headers.eml": Expect(
        "j.weiss@kunde.example", "Rückfrage zur Größe", "Passt Größe 44 auch für breite Füße?", name="Jürgen Weiß"),
    "c06-raw-8bit-filenames.eml": Expect(
        "frank.zimmer@kunde.example", "Unterlagen", "Anbei die Unterlagen.",
        ("Preisliste_Größen.xls", "Übersicht März.pdf"), name="Frank Zimmer"),
    "c07-body-no-charset-cp1252.eml": Expect(
        "birgit.hahn@kunde.example", "Doppelte Abbuchung", "über 49,90 € wurde doppelt abgebucht. „Bitte“ prüfen",
        name="Birgit Hahn"),
    "c08-body-no-charset-shift-jis.eml": Expect(
        "kenji.tanaka@kunde.example.jp", "Order 12345", "先日注文した商品がまだ届いていません", name="Kenji Tanaka"),
    "c09-body-no-charset-cp1251.eml": Expect(
        "ivan.petrov@kunde.example.ru", "Zakaz 4711", "Я заказал товар две недели назад", name="Ivan Petrov"),
    "c10-unknown-charset-label.eml": Expect(
        "nina.berg@kunde.example", "Lieferzeit", "Lieferung nach Österreich?", name="Nina Berg"),
    "c11-encoded-words-split-characters.eml": Expect(
        "lukas.sommer@kunde.example", "Grüße aus München – Ihre Bestellung", "gut angekommen", name="Lukas Sommer"),
    "c12-rfc2231-filenames.eml": Expect(
        "sven.roth@kunde.example", "Ruecksendung", "Ruecksendeschein anbei.",
        ("Rücksendeschein.pdf", "Übersicht Teil 2.pdf"), name="Sven Roth"),
    "c13-euc-kr-label-cp949-text.eml": Expect(
        "minsu.kim@kunde.example.kr", "똠얌꿍 주문 문의", "똠얌꿍 주문 관련 문의드립니다", name="김민수"),
    "c14-undeclared-iso2022jp-body.eml": Expect(
        "aiko.mori@kunde.example.jp", "Thanks", "ご注文ありがとうございます。明日発送します。", name="Aiko Mori"),
    "c15-control-characters.eml": Expect(
        "root@server.kunde.example", "Cron <root@server> /usr/local/bin/sync-orders",
        "ERROR order sync failed at 03:00\nretrying in 5 minutes", name="Cron Daemon"),
    "c16-utf8-label-latin1-bytes.eml": Expect(
        "greta.lorenz@kunde.example", "Rückgabe der Ware", "Wie funktioniert die Rückgabe?", name="Greta Lorenz"),
    "g01-plain-german.eml": Expect(
        "bjoern.koehler@kunde.example", "Geschäftskunden-Rabatt", "Rabatt für Geschäftskunden?", name="Björn Köhler"),
    "h01-unindented-subject-continuation.eml": Expect(
        "erika.muster@kunde.example",
        "Reklamation Bestellung 4711 - der Karton war bei Lieferung beschaedigt und zwei Teller sind zerbrochen",
        "Ersatz fuer die zerbrochenen Teller", name="Erika Muster"),
    "h02-unindented-from-continuation.eml": Expect(
        "k.hoffmann-riedel@grosskunde.example", "Rahmenvertrag 2025", "den Rahmenvertrag verlaengern",
        name="Dr. Klaus-Peter Hoffmann-Riedel, Einkauf"),
    "h03-original-message-line.eml": Expect(
        "t.berger@kunde.example", "Rueckruf erbeten", "unter 0170 1234567 zurueck", name="Thomas Berger"),
    "h04-forwarded-message-banner.eml": Expect(
        "sabine.koch@kunde.example", "Fwd: Garantiefall Kaffeemaschine", "nach 8 Monaten defekt", name="Sabine Koch"),
    "h05-from-without-angle-brackets.eml": Expect(
        "hans.meier@kunde.example", "Passwort vergessen", "nicht mehr in mein Kundenkonto", name="Hans Meier"),
    "h06-address-trailing-dot.eml": Expect(
        "petra.schulz@kunde.example", "Lieferadresse aendern", "Hauptstraße 5", name="Petra Schulz"),
    "h07-docomo-local-part-dot.eml": Expect(
        "taro.@docomo.ne.jp", "注文について", "注文した商品がまだ届きません。", name="山田太郎"),
    "h08-two-from-headers.eml": Expect(
        "lena.vogel@kunde.example", "Anfrage Kontaktformular", "Modell X2 in Blau", name="Lena Vogel"),
    "h09-no-from-reply-to.eml": Expect(
        "jonas.wolf@kunde.example", "Frage zur Rechnung", "zweimal gestellt", name="Jonas Wolf"),
    "h10-from-name-only-return-path.eml": Expect(
        "m.fischer@kunde.example", "Kuendigung", "Hiermit kündige ich meinen Vertrag.", name="Monika Fischer"),
    "h11-mbox-envelope-only.eml": Expect(
        "stefan.lang@kunde.example", "Ersatzteil gesucht", "noch Ersatzdichtungen?"),
    "h12-envelope-in-received.eml": Expect(
        "anna.roth@kunde.example", "Termin verschieben", "am Donnerstag verschieben?", name="Anna Roth"),
    "h13-no-sender-anywhere.eml": Expect(
        None, "Anonyme Beschwerde", "parkt jeden Morgen auf dem Gehweg"),
    "h14-no-blank-line-before-body.eml": Expect(
        "peter.braun@kunde.example", "Status meiner Reparatur", "Stand meiner Reparatur (Auftrag R-889)",
        name="Peter Braun"),
    "h15-mbox-line-and-headers.eml": Expect(
        "julia.neumann@kunde.example", "Gutschein einloesen", "FRUEHLING25 wird nicht angenommen",
        name="Julia Neumann"),
    "h16-sender-header-only.eml": Expect(
        "buchhaltung@kunde-ag.example", "Zahlungsavis", "Rechnung 2025-031 ist unterwegs",
        name="Buchhaltung Kunde AG"),
    "i01-reused-message-id-first.eml": Expect(
        "oliver.kraus@kunde.example", "Bestellung 5001", "Wo bleibt meine Bestellung 5001?", name="Oliver Kraus"),
    "i02-reused-message-id-second.eml": Expect(
        "oliver.kraus@kunde.example", "Neue Frage: Rechnung 5002", "falschen Betrag", name="Oliver Kraus"),
    "i03-no-message-id-crlf.eml": Expect(
        "karin.seidel@kunde.example", "Katalog", "bitte schicken Sie mir den Katalog.", name="Karin Seidel"),
    "i04-no-message-id-lf.eml": Expect(
        "karin.seidel@kunde.example", "Katalog", "bitte schicken Sie mir den Katalog.", name="Karin Seidel",
        same_as="i03-no-message-id-crlf.eml"),
    "n01-monitoring-auto-generated.eml": Expect(
        "zabbix@monitor.kunde.example", "PROBLEM: Shop checkout API response time > 5s", "Host: shop-api-2",
        name="Zabbix", noise="auto_generated"),
    "n02-empty-return-path-notice.eml": Expect(
        "backup@nas.kunde.example", "Sicherung fehlgeschlagen: Auftrag Kundendaten", "Fehler 0x80070005",
        name="Backup-System", noise="auto_generated"),
    "n03-out-of-office.eml": Expect(
        "erika.muster@kunde.example", "Abwesenheitsnotiz: Ihre Anfrage", "bis 10. März nicht im Büro",
        name="Erika Muster", noise="auto_reply"),
    "n04-bounce-dsn.eml": Expect(
        "mailer-daemon@mx.resonanz.example", "Undelivered Mail Returned to Sender", "could not be delivered",
        ("delivery-status.txt", "returned-headers.txt"), name="Mail Delivery System", noise="bounce"),
    "n05-bounce-qmail-plain.eml": Expect(
        "mailer-daemon@mail.provider.example", "failure notice", "no mailbox here by that name", noise="bounce"),
    "n06-mailing-list.eml": Expect(
        "newsletter@verband.example", "Verbandsnews Maerz", "Ruecksendungen ab April", name="Fachverband Handel",
        noise="list"),
    "n07-noreply-notification.eml": Expect(
        "noreply@paket.example", "Ihre Sendung 00340434 wurde zugestellt", "um 10:12 Uhr zugestellt",
        name="Paketdienst", noise="auto_generated"),
    "n08-exchange-automatic-reply.eml": Expect(
        "m.engel@firma.example", "Automatische Antwort: Angebot 2025-07", "derzeit nicht erreichbar",
        name="Markus Engel", noise="auto_generated"),
    "p01-tracking-pixel.eml": Expect(
        "kontakt@partner.example", "Kooperationsanfrage", "gern mit Ihnen kooperieren", ("signatur.png",),
        name="Marketing Partner", html='data-remote-src="https://track.partner.example/open?u=8812&amp;m=p01"'),
    "p02-remote-images-variants.eml": Expect(
        "shop@kunde.example", "Fehler im Bestellformular", "Das Formular zeigt einen Fehler:",
        name="Webshop Kunde", html='data-remote-src="//pixel.example/p.gif"'),
}

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class _Images(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources += [value or "" for name, value in attrs if name == "src"]


def image_sources(html: str) -> list[str]:
    """The src of every image, as a browser's HTML parser reads them."""
    parser = _Images()
    parser.feed(html)
    parser.close()
    return parser.sources


def remote_images_load(html: str) -> bool:
    return any(not src.strip().lower().startswith(("data:", "cid:")) for src in image_sources(html))


def mismatches(mail: ParsedMail, expect: Expect) -> list[str]:
    """What is wrong with one parsed mail: sender, subject, body, attachments (empty when right)."""
    wrong = []
    if (mail.from_address or None) != expect.sender or mail.sender_missing != (expect.sender is None):
        wrong.append(f"sender {mail.from_address!r} (missing={mail.sender_missing}), expected {expect.sender!r}")
    if expect.name and mail.from_name != expect.name:
        wrong.append(f"name {mail.from_name!r}, expected {expect.name!r}")
    if mail.subject != expect.subject:
        wrong.append(f"subject {mail.subject!r}, expected {expect.subject!r}")
    if expect.snippet not in mail.text:
        wrong.append(f"text {mail.text[:200]!r} lacks {expect.snippet!r}")
    if expect.html and expect.html not in mail.html:
        wrong.append(f"html {mail.html[:300]!r} lacks {expect.html!r}")
    names = tuple(sorted(a["filename"] for a in mail.attachments))
    if names != tuple(sorted(expect.attachments)):
        wrong.append(f"attachments {names}, expected {tuple(sorted(expect.attachments))}")
    return wrong


def defects(mail: ParsedMail) -> list[str]:
    """What must never be stored, whatever the mail: controls, escapes, U+FFFD in headers, remote images."""
    found = []
    for label, value in (("subject", mail.subject), ("name", mail.from_name), ("text", mail.text),
                         ("html", mail.html), *((f"file {a['filename']!r}", a["filename"]) for a in mail.attachments)):
        if _CONTROL.search(value.replace("\n", "").replace("\t", "")):
            found.append(f"control character in {label}: {value[:80]!r}")
    for label, value in (("subject", mail.subject), ("name", mail.from_name),
                         *(("file name", a["filename"]) for a in mail.attachments)):
        if "\ufffd" in value:
            found.append(f"replacement character in {label}: {value!r}")
    if remote_images_load(mail.html):
        found.append("a remote image source survived")
    return found


def load(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


def test_every_fixture_has_an_expectation_and_every_expectation_a_fixture():
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)
    readme = (CORPUS / "README.md").read_text()
    assert all(name in readme for name in EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_comes_out_right(name):
    expect = EXPECTED[name]
    mail = parse_mail(load(name))
    assert mismatches(mail, expect) == []
    assert defects(mail) == []
    verdict = noise.classify(mail, OWN)
    assert (None if verdict.is_conversation else verdict.kind) == expect.noise, verdict


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fingerprint_ignores_line_endings(name):
    data = load(name)
    as_lf = data.replace(b"\r\n", b"\n")
    as_crlf = as_lf.replace(b"\n", b"\r\n")
    assert parse_mail(as_lf).fingerprint == parse_mail(as_crlf).fingerprint
    assert parse_mail(as_lf).external_id == parse_mail(as_crlf).external_id


def test_same_mail_has_one_id_and_a_reused_message_id_does_not_hide_another_mail():
    first, again = parse_mail(load("i03-no-message-id-crlf.eml")), parse_mail(load("i04-no-message-id-lf.eml"))
    assert first.message_id == "" and first.external_id == again.external_id
    one, other = parse_mail(load("i01-reused-message-id-first.eml")), parse_mail(load("i02-reused-message-id-second.eml"))
    assert one.message_id == other.message_id == "<reused@mailer.kunde.example>"
    assert one.fingerprint != other.fingerprint


def test_sender_warnings_say_where_the_sender_came_from():
    assert parse_mail(load("h09-no-from-reply-to.eml")).sender_source == "reply-to"
    assert parse_mail(load("h10-from-name-only-return-path.eml")).sender_source == "return-path"
    assert parse_mail(load("h11-mbox-envelope-only.eml")).sender_source == "envelope"
    assert parse_mail(load("h16-sender-header-only.eml")).sender_source == "sender"
    missing = parse_mail(load("h13-no-sender-anywhere.eml"))
    assert missing.sender_missing and missing.from_address == "" and missing.sender_source == ""


def corpus_table(results: dict[str, list[str]]) -> str:
    """A short table of the corpus result per class (``results``: fixture -> mismatches)."""
    classes = {"b": "bodies", "c": "charsets", "g": "baseline", "h": "headers", "i": "idempotency", "n": "noise",
               "p": "privacy"}
    rows = ["| class | fixtures | right |", "|---|---|---|"]
    for prefix, label in classes.items():
        names = [n for n in results if n.startswith(prefix)]
        rows.append(f"| {label} | {len(names)} | {sum(not results[n] for n in names)} |")
    rows.append(f"| all | {len(results)} | {sum(not w for w in results.values())} |")
    return "\n".join(rows)


def test_corpus_rate_and_table(capsys):
    results = {name: mismatches(parse_mail(load(name)), expect) for name, expect in EXPECTED.items()}
    right = sum(not wrong for wrong in results.values())
    with capsys.disabled():
        print("\nparse_mail over the corpus:\n" + corpus_table(results))
    assert right / len(results) >= 0.95, {n: w for n, w in results.items() if w}
