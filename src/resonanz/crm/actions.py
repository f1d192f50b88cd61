"""Every change to contacts, identities and organizations goes through here."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.crm.models import Contact, Identity, Organization, Tag, normalize_handle

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
            "handle",
        )
    if existing:
        return existing
    return Identity.objects.create(contact=contact, kind=kind, handle=normalized, display_name=display_name)


@transaction.atomic
def merge_contacts(keep: Contact, drop: Contact, *, actor=None) -> Contact:
    """Move identities, conversations and history of ``drop`` to ``keep``; delete ``drop``."""
    from resonanz.inbox.models import Conversation, ConversationEvent, Message

    if keep.pk == drop.pk:
        raise ActionError("A contact cannot be merged with itself.", "drop")
    keep = Contact.objects.select_for_update().get(pk=keep.pk)
    drop = Contact.objects.select_for_update().get(pk=drop.pk)
    Identity.objects.filter(contact=drop).update(contact=keep)
    conversation_ids = list(Conversation.objects.filter(contact=drop).values_list("pk", flat=True))
    Conversation.objects.filter(contact=drop).update(contact=keep)
    Message.objects.filter(author_contact=drop).update(author_contact=keep)
    for field in ("name", "preferred_language", "notes"):
        if not getattr(keep, field) and getattr(drop, field):
            setattr(keep, field, getattr(drop, field))
    if not keep.organization_id and drop.organization_id:
        keep.organization_id = drop.organization_id
    keep.custom_fields = {**drop.custom_fields, **keep.custom_fields}
    keep.consent = keep.consent or drop.consent
    keep.save()
    keep.tags.add(*drop.tags.all())
    reason = f"contact #{drop.pk} ({drop}) merged into #{keep.pk} ({keep})"
    ConversationEvent.objects.bulk_create(
        ConversationEvent(conversation_id=cid, actor=actor, kind="contact_merged",
                          data={"from": drop.pk, "into": keep.pk}, reason=reason)
        for cid in conversation_ids
    )
    dropped_id = drop.pk
    drop.delete()
    publish("contact.merged", contact_id=keep.pk, merged_id=dropped_id)
    return keep


@transaction.atomic
def create_organization(*, name: str, domain: str = "", notes: str = "") -> Organization:
    if not name.strip():
        raise ActionError("An organization needs a name.", "name")
    return Organization.objects.create(name=name.strip(), domain=domain.strip().lower(), notes=notes)


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
    stage = fields.get("lifecycle_stage")
    if stage and stage not in Contact.Lifecycle.values:
        raise ActionError(f"Unknown lifecycle stage {stage!r}.", "lifecycle_stage")
    return fields
