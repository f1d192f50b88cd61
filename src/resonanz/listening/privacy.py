"""Public posts that became the contact's conversations, or that the contact's social identities wrote."""

from __future__ import annotations

from django.db.models import Q

from resonanz.crm.privacy import ExportPart, rows
from resonanz.listening.models import Post

SOCIAL_KINDS = ("twitter", "mastodon", "bluesky", "facebook", "instagram", "web")


def contact_posts(contact):
    handles = [h for h in contact.identities.filter(kind__in=SOCIAL_KINDS).values_list("handle", flat=True) if h]
    variants = handles + ["@" + h for h in handles]
    return Post.objects.filter(Q(conversation__contact=contact) | Q(author_handle__in=variants))


def export_part(contact) -> ExportPart:
    posts = rows(contact_posts(contact).order_by("id"))
    return ExportPart(sections={"public_posts": posts}, counts={"public_posts": len(posts)})


def erase_contact(contact, actor=None) -> None:
    contact_posts(contact).delete()
