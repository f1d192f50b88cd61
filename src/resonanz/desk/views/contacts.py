"""Contacts in the agent UI: list, search, timeline, edit and merge."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.core.params import as_int
from resonanz.core.permissions import permission_required
from resonanz.crm import actions, duplicates
from resonanz.crm.models import Contact
from resonanz.desk.forms.contacts import ContactForm, IdentityForm, MergeForm
from resonanz.inbox.models import Message


@login_required
def contact_list(request):
    qs = Contact.objects.prefetch_related("identities").annotate(n_conversations=Count("conversations"))
    q = (request.GET.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(identities__handle__icontains=q)
                       | Q(organization__name__icontains=q)).distinct()
    stage = request.GET.get("stage")
    if stage in Contact.Lifecycle.values:
        qs = qs.filter(lifecycle_stage=stage)
    page = Paginator(qs.order_by("-updated_at"), 50).get_page(request.GET.get("page"))
    return render(request, "crm/contacts.html", {"page": page, "q": q, "stage": stage,
                                                 "stages": Contact.Lifecycle.choices})


@login_required
def contact_detail(request, pk: int):
    contact = get_object_or_404(Contact.objects.select_related("organization", "owner"), pk=pk)
    timeline = (Message.objects.filter(conversation__contact=contact)
                .select_related("conversation", "channel", "author_user__agent", "analysis")
                .order_by("-created_at")[:200])
    conversations = contact.conversations.select_related("channel").order_by("-last_activity_at")
    invites = [(c, c.driver.invite_link(contact.pk)) for c in Channel.objects.filter(enabled=True)]
    return render(request, "crm/contact.html", {
        "invites": [(c, link) for c, link in invites if link],
        "contact": contact, "timeline": timeline, "conversations": conversations,
        "identities": contact.identities.all(), "identity_form": IdentityForm(), "merge_form": MergeForm(),
        "duplicates": duplicates.suggestions(contact, limit=10),
    })


@login_required
def duplicate_list(request):
    """Probable duplicates across all contacts, each pair with why and a one-click merge (into the contact
    with more conversations) or "not a duplicate"."""
    pairs = []
    for s in duplicates.suggestions(limit=200):
        keep, drop = sorted((s.contact, s.other), key=lambda c: (-c.n_conversations, c.pk))
        pairs.append({"keep": keep, "drop": drop, "reasons": s.reasons, "detail": s.detail,
                      "drop_identities": drop.identities.count()})
    return render(request, "crm/duplicates.html", {"pairs": pairs})


def _back(request, pk: int):
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return redirect(target)
    return redirect("crm:contact", pk=pk)


@permission_required("contacts.delete")
@require_POST
def not_duplicate(request, pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    other = Contact.objects.filter(pk=as_int(request.POST.get("other"), minimum=1) or 0).first()
    if other is None:
        flash.error(request, _("That contact does not exist any more."))
        return _back(request, pk)
    try:
        actions.mark_not_duplicate(contact, other, actor=request.user)
        flash.success(request, _("Noted: %(a)s and %(b)s are different people and are not suggested again.")
                      % {"a": contact, "b": other})
    except ActionError as exc:
        flash.error(request, exc.message)
    return _back(request, pk)


@login_required
def contact_edit(request, pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    initial = {"tags": ", ".join(contact.tags.values_list("name", flat=True))}
    form = ContactForm(request.POST or None, instance=Contact.objects.get(pk=pk), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in form.Meta.fields}
        tags = [t.strip() for t in form.cleaned_data["tags"].split(",") if t.strip()]
        actions.update_contact(contact, actor=request.user, tags=tags, **data)
        flash.success(request, _("Contact saved."))
        return redirect("crm:contact", pk=pk)
    return render(request, "crm/contact_edit.html", {"form": form, "contact": contact})


@login_required
@require_POST
def identity_add(request, pk: int):
    contact = get_object_or_404(Contact, pk=pk)
    form = IdentityForm(request.POST)
    if form.is_valid():
        try:
            actions.add_identity(contact, form.cleaned_data["kind"], form.cleaned_data["handle"])
            flash.success(request, _("Identity added."))
        except ActionError as exc:
            flash.error(request, exc.message)
    else:
        flash.error(request, _("Choose a kind and enter a handle."))
    return redirect("crm:contact", pk=pk)


@permission_required("contacts.delete")
def merge(request, pk: int):
    keep = get_object_or_404(Contact, pk=pk)
    if request.method != "POST":
        return _merge_page(request, keep)
    form = MergeForm(request.POST)
    if not form.is_valid():
        flash.error(request, _("Enter the number of the contact to merge."))
        return redirect("crm:contact", pk=pk)
    drop = Contact.objects.filter(pk=form.cleaned_data["other"]).first()
    if drop is None:
        flash.error(request, _("There is no contact #%(n)s.") % {"n": form.cleaned_data["other"]})
        return redirect("crm:contact", pk=pk)
    try:
        actions.merge_contacts(keep, drop, actor=request.user)
        flash.success(request, _("Contact #%(n)s was merged into %(name)s.") % {"n": form.cleaned_data["other"],
                                                                               "name": keep})
    except ActionError as exc:
        flash.error(request, exc.message)
    return _back(request, pk)


def _merge_page(request, keep: Contact):
    """Search the other contact (name, email, handle, number), then see what moves before merging."""
    q = (request.GET.get("q") or "").strip()[:200]
    found = []
    if q:
        qs = Contact.objects.exclude(pk=keep.pk).prefetch_related("identities")
        number = as_int(q.lstrip("#"), minimum=1)
        text = Q(name__icontains=q) | Q(identities__handle__icontains=q) | Q(organization__name__icontains=q)
        if q.startswith("#") and number:
            qs = qs.filter(pk=number)
        else:  # digits may be a contact's number or part of a phone number
            qs = qs.filter(text | Q(pk=number) if number else text).distinct()
        found = list(qs.order_by("-updated_at")[:20])
    other = Contact.objects.filter(pk=as_int(request.GET.get("other"), minimum=1) or 0).exclude(pk=keep.pk).first()
    moving = None
    if other is not None:
        moving = {"identities": list(other.identities.all()), "conversations": other.conversations.count(),
                  "messages": Message.objects.filter(conversation__contact=other).count(),
                  "tags": list(other.tags.values_list("name", flat=True))}
    return render(request, "crm/merge.html", {"contact": keep, "q": q, "found": found, "other": other,
                                              "moving": moving})
