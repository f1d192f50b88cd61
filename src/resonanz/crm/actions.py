"""Every change to contacts, identities and organizations goes through here."""

from __future__ import annotations

import logging
from collections import defaultdict
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext

from resonanz.core import audit, hooks
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.core.fastsql import insert_many
from resonanz.core.params import as_int
from resonanz.crm.models import Contact, Identity, NotDuplicate, Organization, Tag, normalize_handle

log = logging.getLogger("resonanz.crm")
PROFILE_KEYS = ("display_name", "avatar_url", "bio", "followers", "url")


class ContactKey(NamedTuple):
    """A sender as a channel knows them: identity kind and normalised handle, with what they show of
    themselves (name, public profile). Equal keys are the same identity whatever the name says."""

    kind: str
    handle: str
    name: str = ""
    profile: dict = {}

    def __hash__(self) -> int:
        return hash((self.kind, self.handle))

    def __eq__(self, other) -> bool:
        return isinstance(other, tuple) and (self.kind, self.handle) == (other[0], other[1])


def resolve_contacts(keys: list[ContactKey], *, is_demo: bool = False) -> tuple[dict[ContactKey, int], set]:
    """The contact id behind each sender, creating contacts with their identity on first contact.

    One query per identity kind finds the known ones; the new ones are inserted together. Runs inside
    the caller's transaction: a concurrent creation of the same identity fails the caller's batch with
    IntegrityError, and the caller stores its items one by one, finding the identity the other one made.
    A known contact without a name takes the name given; a profile (followers, avatar, bio) is kept fresh.
    Returns the contact id per key and the set of keys whose contact is new.
    """
    wanted: dict[ContactKey, ContactKey] = {}
    for key in keys:
        wanted.setdefault(key, key)
    found: dict[ContactKey, int] = {}
    by_kind: dict[str, list[str]] = defaultdict(list)
    for key in wanted:
        by_kind[key.kind].append(key.handle)
    for kind, handles in by_kind.items():
        for handle, contact_id, contact_name, profile, identity_id in _identities(kind, handles):
            key = wanted[ContactKey(kind, handle)]
            found[key] = contact_id
            if key.name and not contact_name:
                Contact.objects.filter(pk=contact_id, name="").update(name=key.name[:200], updated_at=timezone.now())
            fresh = _profile(key.profile)
            if fresh and {**(profile or {}), **fresh} != (profile or {}):
                Identity.objects.filter(pk=identity_id).update(profile={**(profile or {}), **fresh})
    new = [key for key in wanted if key not in found]
    if new:
        contacts = [Contact(name=key.name[:200], is_demo=is_demo) for key in new]
        insert_many(Contact, contacts)
        insert_many(Identity, [Identity(contact_id=c.pk, kind=k.kind, handle=k.handle,
                                        display_name=(k.profile.get("display_name") or k.name)[:200],
                                        profile=_profile(k.profile))
                               for k, c in zip(new, contacts, strict=True)])
        for key, contact in zip(new, contacts, strict=True):
            found[key] = contact.pk
    return found, set(new)


def _identities(kind: str, handles: list[str]) -> list[tuple]:
    """(handle, contact id, contact name, profile, identity id) of known identities: one plain query, the
    hottest lookup of ingestion (building the ORM query costs more than running it on these machines)."""
    marks = ", ".join(["%s"] * len(handles))
    sql = (f"SELECT i.handle, i.contact_id, c.name, i.profile, i.id FROM {Identity._meta.db_table} i "
           f"JOIN {Contact._meta.db_table} c ON c.id = i.contact_id WHERE i.kind = %s AND i.handle IN ({marks})")
    profile_field = Identity._meta.get_field("profile")
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, *handles])
        return [(h, cid, name, profile_field.from_db_value(p, None, connection) if isinstance(p, str) else p, iid)
                for h, cid, name, p, iid in cursor.fetchall()]


def _profile(profile: dict | None) -> dict:
    """The public profile fields we keep from a platform, with bounded sizes."""
    clean = {}
    for key in PROFILE_KEYS:
        value = (profile or {}).get(key)
        if value in (None, ""):
            continue
        clean[key] = as_int(value) if key == "followers" and as_int(value) is not None else str(value)[:500]
    return clean

# The hottest lookup of ingestion as plain SQL: building the ORM query costs ~30x running it here.
_CONTACT_BY_HANDLE = (
    f"SELECT c.* FROM {Contact._meta.db_table} c JOIN {Identity._meta.db_table} i ON i.contact_id = c.id "
    "WHERE i.kind = %s AND i.handle = %s"
)


def resolve_contact(kind: str, handle: str, name: str = "", *, is_demo: bool = False) -> tuple[Contact, bool]:
    """The contact behind a sender's handle, created with its identity on first contact.

    Runs inside the caller's transaction; a concurrent creation of the same identity is
    resolved to the row that won.
    """
    handle = normalize_handle(kind, handle)
    if not handle:
        raise ActionError("The sender needs a handle (an email address, user name or id).", "sender")
    found = list(Contact.objects.raw(_CONTACT_BY_HANDLE, [kind, handle]))
    if found:
        contact = found[0]
        if name and not contact.name:
            contact.name = name[:200]
            contact.save(update_fields=["name", "updated_at"])
        return contact, False
    try:
        with transaction.atomic():
            contact = Contact.objects.create(name=(name or "")[:200], is_demo=is_demo)
            Identity.objects.create(contact=contact, kind=kind, handle=handle, display_name=(name or "")[:200])
    except IntegrityError:
        identity = Identity.objects.select_related("contact").get(kind=kind, handle=handle)
        return identity.contact, False
    return contact, True


@transaction.atomic
def create_contact(*, name: str = "", identities: list[tuple[str, str]] = (), actor=None, **fields) -> Contact:
    contact = Contact.objects.create(name=name, **_contact_fields(fields))
    for kind, handle in identities:
        add_identity(contact, kind, handle)
    publish("contact.created", contact_id=contact.pk)
    return contact


@transaction.atomic
def update_contact(contact: Contact, *, actor=None, tags: list[str] | None = None, **fields) -> Contact:
    values = _contact_fields(fields)
    if values.get("consent") and not contact.consent:
        values["consent_at"] = timezone.now()
    for key, value in values.items():
        setattr(contact, key, value)
    contact.save()
    if tags is not None:
        contact.tags.set(get_tags(tags))
    publish("contact.updated", contact_id=contact.pk)
    return contact


def add_identity(contact: Contact, kind: str, handle: str, display_name: str = "") -> Identity:
    if kind not in Identity.Kind.values:
        raise ActionError(f"Unknown identity kind {kind!r}; use one of {', '.join(Identity.Kind.values)}.", "kind")
    normalized = normalize_handle(kind, handle)
    if not normalized:
        raise ActionError("The handle is empty.", "handle")
    existing = Identity.objects.filter(kind=kind, handle=normalized).select_related("contact").first()
    if existing and existing.contact_id != contact.pk:
        raise ActionError(
            f"{kind}:{normalized} already belongs to contact #{existing.contact_id} ({existing.contact}); "
            "merge the two contacts instead.",
            "handle", status=409,
        )
    if existing:
        return existing
    return Identity.objects.create(contact=contact, kind=kind, handle=normalized, display_name=display_name)


@transaction.atomic
def claim_identity(kind: str, handle: str, contact_id: int, *, source: str = "") -> Contact | ActionError:
    """A verified link (a deep link Resonanz gave the contact) says this identity is that contact.

    A fresh identity's contact (it has no other identity) is merged into the named one, so the chat's
    conversation joins the customer's history; an identity already known elsewhere with more identities is left
    alone (a person reviews that merge). Returns the contact, or the ActionError that explains the refusal.
    """
    target = Contact.objects.filter(pk=contact_id).first()
    if target is None:
        return ActionError(f"The contact #{contact_id} of the link no longer exists.", "contact")
    normalized = normalize_handle(kind, handle)
    identity = Identity.objects.filter(kind=kind, handle=normalized).select_related("contact").first()
    if identity is None:
        add_identity(target, kind, normalized)
        return target
    if identity.contact_id == target.pk:
        return target
    if Identity.objects.filter(contact_id=identity.contact_id).count() > 1:
        return ActionError(f"{kind}:{normalized} belongs to contact #{identity.contact_id} with other identities; "
                           "merge them by hand if they are one person.", "handle")
    log.info("identity %s:%s joins contact %s (%s)", kind, normalized, target.pk, source)
    return merge_contacts(target, identity.contact)


@transaction.atomic
def merge_contacts(keep: Contact, drop: Contact, *, actor=None) -> Contact:
    """Move identities and everything other apps keep about ``drop`` to ``keep``; delete ``drop``.

    Apps that hold rows of a contact (conversations, messages, community posts) move them in their
    ``contact_merged`` hook, inside this transaction, so a merge is all or nothing.
    """
    if keep.pk == drop.pk:
        raise ActionError("A contact cannot be merged with itself.", "drop")
    keep = Contact.objects.select_for_update().get(pk=keep.pk)
    drop = Contact.objects.select_for_update().get(pk=drop.pk)
    Identity.objects.filter(contact=drop).update(contact=keep)
    hooks.run("contact_merged", keep=keep, drop=drop, actor=actor)
    for field in ("name", "preferred_language", "notes"):
        if not getattr(keep, field) and getattr(drop, field):
            setattr(keep, field, getattr(drop, field))
    if not keep.organization_id and drop.organization_id:
        keep.organization_id = drop.organization_id
    keep.custom_fields = {**drop.custom_fields, **keep.custom_fields}
    keep.consent = keep.consent or drop.consent
    keep.save()
    keep.tags.add(*drop.tags.all())
    dropped_id = drop.pk
    audit.record("contact.merge", actor=actor, target=keep, merged_id=dropped_id, merged_label=str(drop))
    drop.delete()
    publish("contact.merged", contact_id=keep.pk, merged_id=dropped_id)
    return keep


@transaction.atomic
def create_organization(*, name: str, domain: str = "", notes: str = "") -> Organization:
    if not name.strip():
        raise ActionError("An organization needs a name.", "name")
    return Organization.objects.create(name=name.strip(), domain=domain.strip().lower(), notes=notes)


@transaction.atomic
def delete_contact(contact: Contact, *, actor=None) -> None:
    """Delete a contact without history. One with conversations is refused (409): merge or erase it instead,
    so a deletion never takes a customer's messages along by accident."""
    label, pk = str(contact), contact.pk
    try:
        with transaction.atomic():
            contact.delete()
    except ProtectedError as exc:
        count = len(exc.protected_objects)
        raise ActionError(
            f"Contact #{pk} ({label}) has {count} conversation(s); merge it into another contact or erase it "
            "with its data instead of deleting it.", status=409,
        ) from None
    audit.record("contact.delete", actor=actor, target_type="crm.contact", target_id=pk, target_label=label)
    publish("contact.deleted", contact_id=pk)


@transaction.atomic
def update_organization(organization: Organization, **fields) -> Organization:
    for key in ("name", "domain", "notes"):
        if key in fields:
            setattr(organization, key, fields[key].strip().lower() if key == "domain" else fields[key])
    if not organization.name.strip():
        raise ActionError("An organization needs a name.", "name")
    organization.save()
    return organization


@transaction.atomic
def delete_organization(organization: Organization, *, actor=None) -> None:
    """Delete an organization; its contacts stay, without an organization."""
    label, pk = str(organization), organization.pk
    contacts = organization.contacts.count()
    organization.delete()
    audit.record("organization.delete", actor=actor, target_type="crm.organization", target_id=pk,
                 target_label=label, contacts=contacts)


def get_tags(names: list[str]) -> list[Tag]:
    tags = []
    for name in {n.strip()[:64] for n in names if n and n.strip()}:
        tag, _ = Tag.objects.get_or_create(name=name)
        tags.append(tag)
    return tags


_CONTACT_FIELDS = {
    "name", "preferred_language", "lifecycle_stage", "owner", "organization", "custom_fields",
    "consent", "notes", "is_demo",
}


def _contact_fields(fields: dict) -> dict:
    unknown = set(fields) - _CONTACT_FIELDS
    if unknown:
        raise ActionError(f"Unknown contact fields: {', '.join(sorted(unknown))}.")
    if "custom_fields" in fields:
        if fields["custom_fields"] is None:
            fields = {**fields, "custom_fields": {}}
        elif not isinstance(fields["custom_fields"], dict):
            raise ActionError("custom_fields must be an object of names and values.", "custom_fields")
    stage = fields.get("lifecycle_stage")
    if stage and stage not in Contact.Lifecycle.values:
        raise ActionError(f"Unknown lifecycle stage {stage!r}.", "lifecycle_stage")
    return fields


@transaction.atomic
def erase_contact(contact: Contact, *, actor=None, confirm=None, actor_label: str = "") -> dict[str, int]:
    """GDPR erasure: the contact, its identities and everything the apps above keep about it, for good.

    ``confirm`` must be the contact's number: the agent's confirmation step in the UI, the API and the CLI,
    so a slip of the mouse or a wrong id in a script erases nothing. Apps remove their rows through the
    ``contact_erased`` hook (highest app first) inside this transaction; files go after commit. The audit
    entry keeps the number and the counts, never the name or handles, and earlier entries about the contact
    lose its name too. Returns what was removed.
    """
    from resonanz.core.models import AuditEntry
    from resonanz.crm.privacy import erasure_preview

    if str(confirm).strip() != str(contact.pk):
        raise ActionError(f"To erase contact #{contact.pk}, confirm with its number {contact.pk}.", "confirm")
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    pk = contact.pk
    counts = erasure_preview(contact)
    hooks.run("contact_erased", reverse=True, contact=contact, actor=actor)
    Identity.objects.filter(contact=contact).delete()
    contact.tags.clear()
    contact.delete()
    AuditEntry.objects.filter(target_type="crm.contact", target_id=str(pk)).update(target_label="")
    audit.record("contact.erase", actor=actor, actor_label=actor_label, target_type="crm.contact", target_id=pk,
                 target_label="", **counts)
    publish("contact.erased", contact_id=pk)
    return counts
def mark_not_duplicate(a: Contact, b: Contact, *, actor=None) -> NotDuplicate:
    """A person says these two contacts are different people: the pair is never suggested again."""
    if a.pk == b.pk:
        raise ActionError(gettext("A contact is always the same person as itself."), "other")
    first, second = sorted((a.pk, b.pk))
    with transaction.atomic():
        mark, created = NotDuplicate.objects.get_or_create(first_id=first, second_id=second,
                                                           defaults={"marked_by": actor})
        if created:
            audit.record("contact.not_duplicate", actor=actor, target=a, other_id=b.pk, other_label=str(b))
    return mark
