"""GDPR: everything Resonanz holds about one contact in one download, and what erasing it would remove.

crm knows the contact and its identities; every app above keeps more (conversations, messages and their
attachments, analyses, community posts, survey answers) and hands its part through the
``contact_exported`` hook, so this module never imports upward. The download is one ZIP: ``contact.json``
(machine-readable, every section), ``contact.html`` (the same, readable by the person who asked) and
``attachments/`` with the files the JSON names.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.template.loader import render_to_string
from django.utils import timezone, translation

from resonanz.core import hooks
from resonanz.core.models import AuditEntry
from resonanz.crm.models import Contact

FORMAT = "resonanz-contact-export/1"


@dataclass
class ExportPart:
    """One app's share: named sections of JSON-ready rows, and files (path in the ZIP, storage field file)."""

    sections: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, Any]] = field(default_factory=list)
    #: how many rows of each kind an erasure would remove or anonymise (shown before the agent confirms)
    counts: dict[str, int] = field(default_factory=dict)


def row(instance: models.Model, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """A model row as plain JSON values: every concrete field, foreign keys as ids."""
    data: dict[str, Any] = {}
    for f in instance._meta.concrete_fields:
        if f.name in exclude:
            continue
        value = getattr(instance, f.attname)
        if isinstance(f, models.FileField):
            value = value.name if value else ""
        elif isinstance(value, datetime.datetime | datetime.date):
            value = value.isoformat()
        data[f.attname] = value
    return data


def rows(queryset, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    return [row(obj, exclude) for obj in queryset]


def collect(contact: Contact) -> tuple[dict[str, Any], list[tuple[str, Any]], dict[str, int]]:
    """(the JSON document, the files, the counts per kind) for one contact."""
    document: dict[str, Any] = {
        "format": FORMAT,
        "exported_at": timezone.now().isoformat(),
        "contact": {**row(contact), "tags": list(contact.tags.values_list("name", flat=True)),
                    "organization_name": contact.organization.name if contact.organization_id else ""},
        "identities": rows(contact.identities.all()),
    }
    files: list[tuple[str, Any]] = []
    counts = {"identities": len(document["identities"])}
    for part in hooks.run("contact_exported", contact=contact):
        if part is None:
            continue
        document.update(part.sections)
        files.extend(part.files)
        for key, n in part.counts.items():
            counts[key] = counts.get(key, 0) + n
    document["audit_entries"] = rows(
        AuditEntry.objects.filter(target_type="crm.contact", target_id=str(contact.pk)).order_by("id"),
        exclude=("actor",))
    return document, files, counts


def erasure_preview(contact: Contact) -> dict[str, int]:
    """How many rows of each kind erasing the contact removes: what the agent confirms."""
    return collect(contact)[2]


def export_zip(contact: Contact) -> bytes:
    """The one download: contact.json and the attachment files it names (a missing file is noted, not fatal)."""
    document, files, _counts = collect(contact)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        missing = []
        for path, stored in files:
            try:
                with stored.open("rb") as handle:
                    archive.writestr(path, handle.read())
            except (OSError, ValueError):
                missing.append(path)
        document["missing_files"] = missing
        archive.writestr("contact.json", json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2))
        archive.writestr("contact.html", readable_page(contact, document))
    return buffer.getvalue()


def _value(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    return "" if value is None else str(value)


def readable(document: dict[str, Any]) -> list[tuple[str, list[list[tuple[str, str]]]]]:
    """The export as sections of records of (field, text), for people rather than programs."""
    sections = []
    for name, content in document.items():
        if name in ("format", "exported_at"):
            continue
        items = content if isinstance(content, list) else [content]
        records = [[(str(k), _value(v)) for k, v in item.items()] if isinstance(item, dict) else [("", _value(item))]
                   for item in items]
        sections.append((name, records))
    return sections


def readable_page(contact: Contact, document: dict[str, Any] | None = None, request=None) -> str:
    """The export as HTML, in the language of the agent who asked: a self-contained file for the ZIP (no
    scripts, no styles, nothing to fetch), or with ``request`` the desk page around the same sections."""
    document = document or collect(contact)[0]
    context = {"contact": contact, "exported_at": document.get("exported_at", ""), "sections": readable(document),
               "LANGUAGE_CODE": translation.get_language() or "de"}
    if request is not None:
        return render_to_string("crm/contact_export_page.html", context, request=request)
    return render_to_string("crm/contact_export.html", context)


def export_filename(contact: Contact) -> str:
    return f"resonanz-contact-{contact.pk}-{timezone.now():%Y%m%d}.zip"
