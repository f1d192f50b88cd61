"""The public contact form of a web-form channel: text, the customer's files, consent, and a ticket number back."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from django import forms
from django.conf import settings
from django.core import signing
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.intake import InboundMessage
from resonanz.connectors.models import Channel
from resonanz.core import backpressure
from resonanz.core.errors import ActionError
from resonanz.core.ratelimit import rate_limited
from resonanz.inbox import files as message_files


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your email address"))
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    message = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)
    # Submitted with the form, so a double click or a resent POST stores the message once; signed with the time
    # the form was served, so a bot posting at once (or a stale page) is caught besides the honeypot.
    token = forms.CharField(widget=forms.HiddenInput)
    consent = forms.BooleanField(label=_("I agree that my details are stored to answer my message."),
                                 error_messages={"required": _("Please agree so we may store and answer your message.")})
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
                              label="")  # a field people don't see and bots fill


SIGNER = signing.TimestampSigner(salt="resonanz.contact-form")
MAX_AGE = timedelta(hours=24)


def new_token() -> str:
    return SIGNER.sign(uuid.uuid4().hex)


def token_problem(token: str) -> str:
    """Why a submission's form token is not acceptable ("" when it is): forged, a day old, or sent faster than a
    person fills in a form (RESONANZ_FORM_MIN_SECONDS after the page was served)."""
    try:
        SIGNER.unsign(token, max_age=MAX_AGE)
    except signing.SignatureExpired:
        return str(_("This form was open for more than a day. Please check your message and send it again."))
    except signing.BadSignature:
        return str(_("This form could not be checked. Please check your message and send it again."))
    served = signing.b62_decode(token.rsplit(":", 2)[1])
    if time.time() - served < getattr(settings, "RESONANZ_FORM_MIN_SECONDS", 3):
        return str(_("That was very fast. Please check your message and send it again."))
    return ""


def uploaded_files(request) -> tuple[list[dict], str]:
    """The customer's files as they will be stored, or the reason they cannot be (in the customer's language)."""
    uploads = request.FILES.getlist("files")
    few = len(uploads) <= message_files.MAX_FORM_FILES  # too many: refused by count, none of them is read
    try:
        return message_files.checked_from_customer(
            [{"filename": item.name, "content": item.read() if few else b""} for item in uploads]), ""
    except ActionError as exc:
        return [], exc.message


@rate_limited("contact_form", key=lambda request, slug: slug)
def contact_form(request, slug: str):
    channel = get_object_or_404(Channel, slug=slug)
    if not channel.driver.has_public_form or not channel.enabled:
        raise Http404("no such form")
    busy = None
    files_problem = ""
    if request.method == "POST":
        form = ContactForm(request.POST)
        attachments, files_problem = uploaded_files(request)
        problem = token_problem(request.POST.get("token", "")) if form.is_valid() else ""
        if not problem and form.is_valid():
            try:  # the pipeline is far behind: nothing is stored, the person sends again later
                backpressure.admit("public")
            except backpressure.Overloaded as exc:
                busy = exc
                problem = backpressure.busy_message(exc.retry_after)
        if problem:  # nothing is stored; the text stays in the form (busy: the same token, so it is stored once)
            form = ContactForm({**request.POST.dict(), "token": request.POST["token"] if busy else new_token()})
            form.is_valid()
            form.add_error(None, problem)
        elif form.is_valid() and not files_problem:
            d = form.cleaned_data
            reference = ""
            if not d["website"]:
                results = intake.submit(channel, [InboundMessage(
                    external_id=f"form-{d['token'].split(':', 1)[0]}", sender_handle=d["email"], sender_name=d["name"],
                    subject=d["subject"], text=d["message"], attachments=attachments,
                    meta={"remote_addr": request.META.get("REMOTE_ADDR", ""), "consent": True},
                )])
                stored = results[0] if results else None
                reference = getattr(getattr(stored, "conversation", None), "reference", "")
            return render(request, "connectors/contact_thanks.html", {
                "name": d["name"], "reference": reference, "files": [f["filename"] for f in attachments]})
    else:
        form = ContactForm(initial={"token": new_token()})
    response = render(request, "connectors/contact_form.html", {
        "form": form, "privacy_url": getattr(settings, "RESONANZ_PRIVACY_URL", ""), "files_problem": files_problem,
        "file_limits": message_files.limits(max_files=message_files.MAX_FORM_FILES),
        "file_mb": message_files.MAX_FILE_BYTES // 2**20, "total_mb": message_files.MAX_TOTAL_BYTES // 2**20},
        status=503 if busy else 200)
    if busy:
        response["Retry-After"] = str(busy.retry_after)
    return response
