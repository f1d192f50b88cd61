"""The inbox's share of a GDPR export and erasure: the contact's conversations, messages, internal notes,
attachments (with the files on disk) and the conversations' event log.

Registered on crm's ``contact_exported`` and ``contact_erased`` hooks. Deleting the message rows also removes
them from the full-text index (SQLite's FTS5 triggers; PostgreSQL's expression index) and, through
cascades, their analyses, facts, suggestions and survey rows; files are deleted from disk after commit, so a
rolled-back erasure keeps them.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Q

from resonanz.crm.privacy import ExportPart, rows
from resonanz.inbox.models import Attachment, Conversation, ConversationEvent, Message

log = logging.getLogger("resonanz.inbox")


def contact_messages(contact):
    """Every message in the contact's conversations, and any the contact wrote elsewhere."""
    return Message.objects.filter(Q(conversation__contact=contact) | Q(author_contact=contact))


def export_part(contact) -> ExportPart:
    conversations = Conversation.objects.filter(contact=contact).order_by("id")
    messages = contact_messages(contact).order_by("created_at", "id")
    attachments = Attachment.objects.filter(message__in=messages).order_by("id")
    files, attachment_rows = [], []
    for attachment in attachments:
        entry = rows([attachment])[0]
        entry["path_in_export"] = ""
        if attachment.file:
            entry["path_in_export"] = f"attachments/{attachment.pk}-{attachment.filename or 'file'}"
            files.append((entry["path_in_export"], attachment.file))
        attachment_rows.append(entry)
    message_rows = rows(messages.exclude(direction=Message.Direction.NOTE))
    note_rows = rows(messages.filter(direction=Message.Direction.NOTE))
    events = rows(ConversationEvent.objects.filter(conversation__in=conversations).order_by("id"))
    return ExportPart(
        sections={"conversations": rows(conversations), "messages": message_rows, "notes": note_rows,
                  "attachments": attachment_rows, "conversation_events": events},
        files=files,
        counts={"conversations": len(conversations), "messages": len(message_rows), "notes": len(note_rows),
                "attachments": len(attachment_rows)},
    )


def delete_files_after_commit(names: list[str]) -> None:
    """Remove stored files once the rows that named them are gone for good."""
    from django.core.files.storage import default_storage

    def remove() -> None:
        for name in names:
            try:
                default_storage.delete(name)
            except OSError as exc:  # already gone, or the disk refuses: the row is gone either way
                log.warning("could not delete the attachment file %s: %s", name, exc)

    transaction.on_commit(remove)


def erase_contact(contact, actor=None) -> None:
    """Delete the contact's conversations with everything in them, and messages the contact wrote elsewhere."""
    messages = contact_messages(contact)
    names = [n for n in Attachment.objects.filter(message__in=messages).values_list("file", flat=True) if n]
    Message.objects.filter(author_contact=contact).exclude(conversation__contact=contact).delete()
    Conversation.objects.filter(contact=contact).delete()
    delete_files_after_commit(names)
