"""Contacts that are probably one person: the same email address under another identity, the same phone
number, or a very similar name in the same organisation. Suggested, never merged on their own: a person
merges (``actions.merge_contacts``) or says "not a duplicate" (``actions.mark_not_duplicate``), which is kept.

The same address under one identity kind cannot belong to two contacts (identities are unique per kind and
handle), so an email match is always across kinds: a mail sender and an API or chat user who gave the same
address. Phone numbers compare by their last nine digits, so +49 170 1234567, 0049… and 0170… meet.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.db.models.functions import Length, Lower, Right
from rapidfuzz import fuzz

from resonanz.core.addresses import UNKNOWN_SENDER_DOMAIN
from resonanz.crm.models import Contact, Identity, NotDuplicate

PHONE_KINDS = ("phone", "whatsapp")
PHONE_DIGITS = 9
NAME_SIMILARITY = 88  # rapidfuzz token_sort_ratio: "Kim Schulz" ~ "Schulz, Kim" ~ "Kim Schultz"
MAX_ORGANISATION = 400  # larger organisations are skipped for names (pairwise comparison)


@dataclass
class Suggestion:
    contact: Contact
    other: Contact
    reasons: list[str] = field(default_factory=list)  # "email", "phone", "name"
    detail: list[str] = field(default_factory=list)  # the address, number or names that matched


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def dismissed(contact_ids: set[int] | None = None) -> set[tuple[int, int]]:
    qs = NotDuplicate.objects.all()
    if contact_ids is not None:
        qs = qs.filter(Q(first_id__in=contact_ids) | Q(second_id__in=contact_ids))
    return set(qs.values_list("first_id", "second_id"))


def _add(found: dict, a: int, b: int, reason: str, detail: str) -> None:
    if a == b:
        return
    entry = found.setdefault(_pair(a, b), ({}, []))
    if reason not in entry[0]:
        entry[0][reason] = True
        entry[1].append(detail)


def _emails(found: dict, only: Contact | None) -> None:
    identities = Identity.objects.filter(handle__contains="@").exclude(handle__endswith="@" + UNKNOWN_SENDER_DOMAIN)
    identities = identities.annotate(address=Lower("handle"))
    if only is not None:
        mine = list(identities.filter(contact=only).values_list("address", flat=True))
        keys = set(mine)
    else:
        keys = set(identities.values("address").annotate(n=Count("contact", distinct=True)).filter(n__gt=1)
                   .values_list("address", flat=True)[:5000])
    if not keys:
        return
    groups = defaultdict(set)
    for address, contact_id in identities.filter(address__in=keys).values_list("address", "contact_id"):
        groups[address].add(contact_id)
    for address, ids in groups.items():
        _link(found, ids, only, "email", address)


def _phones(found: dict, only: Contact | None) -> None:
    identities = (Identity.objects.filter(kind__in=PHONE_KINDS).annotate(length=Length("handle"))
                  .filter(length__gte=PHONE_DIGITS).annotate(tail=Right("handle", PHONE_DIGITS)))
    if only is not None:
        keys = set(identities.filter(contact=only).values_list("tail", flat=True))
    else:
        keys = set(identities.values("tail").annotate(n=Count("contact", distinct=True)).filter(n__gt=1)
                   .values_list("tail", flat=True)[:5000])
    if not keys:
        return
    groups = defaultdict(set)
    for tail, contact_id in identities.filter(tail__in=keys).values_list("tail", "contact_id"):
        groups[tail].add(contact_id)
    for tail, ids in groups.items():
        _link(found, ids, only, "phone", "…" + tail[-6:])


def _link(found: dict, ids: set[int], only: Contact | None, reason: str, detail: str) -> None:
    ids = sorted(ids)
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if only is None or only.pk in (a, b):
                _add(found, a, b, reason, detail)


def _names(found: dict, only: Contact | None) -> None:
    people = Contact.objects.exclude(name="").filter(organization__isnull=False)
    if only is not None:
        if not only.organization_id or not only.name:
            return
        people = people.filter(organization_id=only.organization_id)
    else:
        crowded = (Contact.objects.filter(organization__isnull=False).values("organization")
                   .annotate(n=Count("id")).filter(n__gt=1, n__lte=MAX_ORGANISATION).values("organization"))
        people = people.filter(organization__in=crowded)
    by_org = defaultdict(list)
    for pk, name, org in people.values_list("pk", "name", "organization_id")[:50_000]:
        by_org[org].append((pk, " ".join(name.casefold().replace(",", " ").split())))
    for rows in by_org.values():
        for i, (a, name_a) in enumerate(rows):
            for b, name_b in rows[i + 1:]:
                if only is not None and only.pk not in (a, b):
                    continue
                if fuzz.token_sort_ratio(name_a, name_b) >= NAME_SIMILARITY:
                    _add(found, a, b, "name", "")


def suggestions(contact: Contact | None = None, limit: int = 200) -> list[Suggestion]:
    """Probable duplicates of ``contact`` (its page), or all probable pairs (the list page), strongest first;
    pairs marked "not a duplicate" never come back."""
    found: dict = {}
    _emails(found, contact)
    _phones(found, contact)
    _names(found, contact)
    if not found:
        return []
    ids = {i for pair in found for i in pair}
    skip = dismissed(ids)
    pairs = [(pair, reasons, detail) for pair, (reasons, detail) in found.items() if pair not in skip]
    contacts = Contact.objects.select_related("organization").annotate(
        n_conversations=Count("conversations", distinct=True)).in_bulk({i for pair, _r, _d in pairs for i in pair})
    result = []
    for (a, b), reasons, detail in pairs:
        if a not in contacts or b not in contacts:
            continue
        first, second = contacts[a], contacts[b]
        if contact is not None:  # on a contact's page the other one is the suggestion
            first, second = (first, second) if first.pk == contact.pk else (second, first)
        result.append(Suggestion(first, second, list(reasons), [d for d in detail if d]))
    result.sort(key=lambda s: (-len(s.reasons), -max(s.contact.updated_at.timestamp(), s.other.updated_at.timestamp())))
    return result[:limit]
