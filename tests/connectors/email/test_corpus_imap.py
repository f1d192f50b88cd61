"""The whole fixture corpus through the real path: APPEND to Dovecot, poll with the EmailDriver, read the database.

Every mail must be stored (or visibly quarantined with $ResonanzFailed in the mailbox), none
twice, and at least 95 % with sender, subject, body and attachments right, as a user would see
them on the stored message.
"""

from __future__ import annotations

import pytest
from imapclient import IMAPClient

from resonanz.connectors.drivers import get_driver
from resonanz.connectors.mail.parse import parse_mail
from resonanz.inbox.models import Attachment, Message

from .test_corpus import EXPECTED, corpus_table, load, remote_images_load

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]

PROCESSED, FAILED = b"$ResonanzProcessed", b"$ResonanzFailed"
REDELIVERED = "g01-plain-german.eml"  # appended twice: a genuine redelivery of the same bytes


def _stored(name: str) -> Message | None:
    """The stored message of a fixture, by the external id the driver gives it."""
    mail = parse_mail(load(name))
    candidates = [mail.external_id]
    if mail.message_id:
        candidates.append(f"{mail.message_id}#{mail.fingerprint[:32]}")
    found = list(Message.objects.filter(external_id__in=candidates, direction="inbound"))
    if len(found) == 1:
        return found[0]
    # A reused Message-ID: the fixture's own copy is the one with its fingerprint.
    return next((m for m in found if m.meta.get("email", {}).get("fingerprint") == mail.fingerprint), None)


def _mismatches(message: Message, name: str) -> list[str]:
    expect = EXPECTED[name]
    wrong = []
    identity = message.author_contact.identities.get()
    if expect.sender is None:
        if not identity.handle.endswith("@unknown-sender.invalid"):
            wrong.append(f"expected an unknown sender, got {identity.handle}")
        if [w["code"] for w in message.meta.get("warnings", [])] != ["sender_missing"]:
            wrong.append(f"no sender_missing warning: {message.meta.get('warnings')}")
    elif identity.handle != expect.sender:
        wrong.append(f"sender {identity.handle!r}, expected {expect.sender!r}")
    if expect.name and message.author_contact.name != expect.name:
        wrong.append(f"contact name {message.author_contact.name!r}, expected {expect.name!r}")
    if message.subject != expect.subject:
        wrong.append(f"subject {message.subject!r}, expected {expect.subject!r}")
    if expect.snippet not in message.text:
        wrong.append(f"text {message.text[:200]!r} lacks {expect.snippet!r}")
    if expect.html and expect.html not in message.html:
        wrong.append(f"html lacks {expect.html!r}")
    if remote_images_load(message.html):
        wrong.append("a remote image source was stored")
    names = tuple(sorted(Attachment.objects.filter(message=message).values_list("filename", flat=True)))
    if names != tuple(sorted(expect.attachments)):
        wrong.append(f"attachments {names}, expected {tuple(sorted(expect.attachments))}")
    kind = (message.meta.get("noise") or {}).get("kind")
    if kind != expect.noise:
        wrong.append(f"noise {kind!r}, expected {expect.noise!r}")
    return wrong


def test_whole_corpus_through_dovecot_and_the_email_driver(email_channel, mailbox, dovecot, capsys):
    names = sorted(EXPECTED)
    with dovecot.client(mailbox.user) as client:  # one session for all APPENDs: quicker than one each
        assert isinstance(client, IMAPClient)
        for name in [*names, REDELIVERED]:
            client.append("INBOX", load(name))
    driver = get_driver(email_channel)
    distinct = [n for n in names if not EXPECTED[n].same_as]
    assert driver.poll() == len(distinct)  # the redelivery and the LF copy of i03 are known
    assert driver.poll() == 0

    flags = mailbox.flags()
    quarantined = [uid for uid, f in flags.items() if FAILED in f]
    assert len(flags) == len(names) + 1 and all(PROCESSED in f for f in flags.values())
    assert Message.objects.filter(direction="inbound").count() == len(distinct)

    results: dict[str, list[str]] = {}
    for name in names:
        target = EXPECTED[name].same_as or name
        message = _stored(target)
        results[name] = ["not stored"] if message is None else _mismatches(message, target)
    lost = [n for n, wrong in results.items() if wrong == ["not stored"]]
    right = sum(not wrong for wrong in results.values())
    noise = Message.objects.filter(direction="inbound", meta__has_key="noise").count()
    unknown = Message.objects.filter(direction="inbound", meta__has_key="warnings").count()
    with capsys.disabled():
        print("\nstored through IMAP:\n" + corpus_table(results))
        print(f"stored {len(distinct)} distinct mails of {len(names)} fixtures (+1 redelivery); "
              f"{noise} as noise (filtered view), {unknown} with a sender warning, "
              f"{len(quarantined)} quarantined in the mailbox, {len(lost)} lost")
    assert lost == [] and quarantined == []
    assert right / len(results) >= 0.95, {n: w for n, w in results.items() if w}
    assert {n: w for n, w in results.items() if w} == {}
