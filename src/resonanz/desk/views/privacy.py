"""GDPR on the contact page: download everything about a contact, erase a contact after confirming."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from resonanz.core import audit
from resonanz.core.errors import ActionError
from resonanz.core.permissions import permission_required
from resonanz.crm import actions, privacy
from resonanz.crm.models import Contact


@permission_required("data.export")
def export(request, pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    body = privacy.export_zip(contact)
    audit.record("contact.export", actor=request.user, target=contact, format="zip", bytes=len(body))
    response = HttpResponse(body, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{privacy.export_filename(contact)}"'
    return response


@permission_required("data.export")
def export_page(request, pk: int):
    """The export as a readable page (the same page is contact.html in the ZIP)."""
    contact = get_object_or_404(Contact, pk=pk)
    page = privacy.readable_page(contact, request=request)
    audit.record("contact.export", actor=request.user, target=contact, format="html", bytes=len(page))
    return HttpResponse(page)


@permission_required("contacts.delete")
def erase(request, pk: int):
    """GET shows what goes and asks for the contact's number; POST with the number erases."""
    contact = get_object_or_404(Contact, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            counts = actions.erase_contact(contact, actor=request.user, confirm=request.POST.get("confirm", ""))
        except ActionError:
            error = _("Type the contact's number %(n)s to confirm.") % {"n": contact.pk}
        else:
            flash.success(request, _("Contact #%(n)s and %(count)s related records were erased.")
                          % {"n": pk, "count": sum(counts.values())})
            return redirect("crm:contacts")
    counts = privacy.erasure_preview(contact)
    labels = {
        "identities": _("identities"), "conversations": _("conversations"), "messages": _("messages"),
        "notes": _("internal notes"), "attachments": _("attachments (files on disk)"),
        "analyses": _("analyses"), "public_posts": _("public posts"), "community_posts": _("community posts"),
        "survey_answers": _("survey answers"),
    }
    rows = [(labels.get(key, key), n) for key, n in counts.items()]
    return render(request, "crm/contact_erase.html", {"contact": contact, "rows": rows, "error": error},
                  status=400 if error else 200)
