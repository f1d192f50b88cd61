"""The public contact form of a web-form channel."""

from __future__ import annotations

import uuid

from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import intake
from resonanz.connectors.intake import InboundMessage
from resonanz.connectors.models import Channel
from resonanz.core.ratelimit import rate_limited


class ContactForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200)
    email = forms.EmailField(label=_("Your email address"))
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    message = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 8}), max_length=20000)
    # Submitted with the form, so a double click or a resent POST stores the message once.
    token = forms.CharField(widget=forms.HiddenInput)
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
                              label="")  # a field people don't see and bots fill


@rate_limited("contact_form", key=lambda request, slug: slug)
def contact_form(request, slug: str):
    channel = get_object_or_404(Channel, slug=slug)
    if not channel.driver.has_public_form or not channel.enabled:
        raise Http404("no such form")
    if request.method == "POST":
        form = ContactForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            if not d["website"]:
                intake.submit(channel, [InboundMessage(
                    external_id=f"form-{d['token']}", sender_handle=d["email"], sender_name=d["name"],
                    subject=d["subject"], text=d["message"],
                    meta={"remote_addr": request.META.get("REMOTE_ADDR", "")},
                )])
            return render(request, "connectors/contact_thanks.html", {"channel": channel, "name": d["name"]})
    else:
        form = ContactForm(initial={"token": uuid.uuid4().hex})
    return render(request, "connectors/contact_form.html", {"channel": channel, "form": form})
