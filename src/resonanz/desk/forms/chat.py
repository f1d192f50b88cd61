"""The chat widget's settings as a form (greeting, colour, position, sites, business hours, pre-chat questions).

The form only translates between fields and ``Channel.settings``; the chat driver validates the result
(``ChatDriver.clean_settings``) when ``update_channel`` stores it, so the API and this form accept the same.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers.chat import DAYS
from resonanz.connectors.models import Channel

DAY_LABELS = {"mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"), "thu": _("Thursday"),
              "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday")}


class ChatWidgetForm(forms.Form):
    greeting_en = forms.CharField(label=_("Greeting (English)"), max_length=500, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    greeting_de = forms.CharField(label=_("Greeting (German)"), max_length=500, required=False,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    colour = forms.RegexField(label=_("Colour"), regex=r"^#[0-9a-fA-F]{6}$", initial="#1f5fbf",
                              widget=forms.TextInput(attrs={"type": "color"}))
    position = forms.ChoiceField(label=_("Position on the page"),
                                 choices=[("right", _("Bottom right")), ("left", _("Bottom left"))])
    allowed_origins = forms.CharField(
        label=_("Websites that may embed the chat"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "placeholder": "https://www.example.com"}),
        help_text=_("One origin per line (scheme, host and port, e.g. https://www.example.com). Other sites get "
                    "no chat."))
    timezone = forms.CharField(label=_("Time zone of the business hours"), max_length=60, required=False,
                               help_text=_("e.g. Europe/Berlin; empty: the server's time zone."))
    prechat = forms.MultipleChoiceField(
        label=_("Ask before the chat starts"), required=False, widget=forms.CheckboxSelectMultiple,
        choices=[("name", _("Name")), ("email", _("Email address")), ("topic", _("Topic"))])
    reply_channel = forms.ModelChoiceField(
        label=_("Answer left messages through"), required=False, queryset=Channel.objects.filter(kind="email"),
        empty_label=_("the first email channel"), help_text=_("Outside business hours visitors leave a message "
                                                               "with their email address; replies go out by email."))

    max_upload_mb = forms.IntegerField(
        label=_("Largest file a visitor may send (MB)"), min_value=1, max_value=25, initial=5, required=False,
        help_text=_("Images (PNG, JPEG, GIF, WebP), PDF and text files. The server's request limit "
                    "(RESONANZ_MAX_REQUEST_BYTES) caps it too."))
    typing_preview = forms.BooleanField(
        label=_("Agents see what the visitor is typing before it is sent"), required=False)
    satisfaction = forms.BooleanField(label=_("Ask for a rating when the chat has ended"), required=False)
    invite_de = forms.CharField(label=_("Invitation (German)"), max_length=300, required=False)
    invite_en = forms.CharField(label=_("Invitation (English)"), max_length=300, required=False)
    invite_url = forms.CharField(
        label=_("On pages whose address matches"), max_length=300, required=False,
        widget=forms.TextInput(attrs={"placeholder": "*/preise*", "spellcheck": "false"}),
        help_text=_("* stands for any text; empty: every page."))
    invite_after = forms.IntegerField(label=_("After seconds on the page"), min_value=0, max_value=3600,
                                      required=False, initial=30)
    invite_pages = forms.IntegerField(label=_("After pages seen"), min_value=0, max_value=100, required=False,
                                      initial=0)
    invite_returning = forms.BooleanField(label=_("Only returning visitors"), required=False)
    invite_period = forms.IntegerField(
        label=_("At most once per visitor every (hours)"), min_value=1, max_value=24 * 365, initial=24, required=False,
        help_text=_("A visitor who closed the chat is not invited again within this time."))

    def __init__(self, *args, channel: Channel, **kwargs):
        settings = channel.driver.options
        greeting = settings.get("greeting") or {}
        if isinstance(greeting, str):
            greeting = {"en": greeting, "de": greeting}
        hours = settings.get("hours") or {}
        initial = {
            "greeting_en": greeting.get("en", ""), "greeting_de": greeting.get("de", ""),
            "colour": settings.get("colour"), "position": settings.get("position"),
            "allowed_origins": "\n".join(settings.get("allowed_origins") or []),
            "timezone": settings.get("timezone", ""), "prechat": settings.get("prechat") or [],
            "reply_channel": Channel.objects.filter(kind="email", name=settings.get("reply_channel")).first(),
            "max_upload_mb": settings.get("max_upload_mb"), "typing_preview": settings.get("typing_preview"),
            "satisfaction": settings.get("satisfaction"), "invite_period": settings.get("invitation_period_hours"),
        }
        rule = (settings.get("invitations") or [{}])[0]
        message = rule.get("message") or {}
        if isinstance(message, str):
            message = {"en": message, "de": message}
        initial.update({"invite_de": message.get("de", ""), "invite_en": message.get("en", ""),
                        "invite_url": rule.get("url", "") if rule.get("url") != "*" else "",
                        "invite_after": rule.get("after_seconds", 30), "invite_pages": rule.get("min_pages", 0),
                        "invite_returning": rule.get("returning", False)})
        for day in DAYS:
            span = hours.get(day) or ["", ""]
            initial[f"{day}_opens"], initial[f"{day}_closes"] = span
        super().__init__(*args, initial=initial, **kwargs)
        self.channel = channel
        for day in DAYS:
            for part, label in (("opens", _("%(day)s opens")), ("closes", _("%(day)s closes"))):
                text = str(label) % {"day": DAY_LABELS[day]}
                # the row shows the day once; each time field still has its own accessible name
                self.fields[f"{day}_{part}"] = forms.TimeField(label=text, required=False, widget=forms.TimeInput(
                    attrs={"type": "time", "aria-label": text}, format="%H:%M"))

    def general_fields(self):
        return [self[name] for name in ("greeting_en", "greeting_de", "colour", "position", "allowed_origins",
                                        "prechat", "reply_channel")]

    def upload_fields(self):
        return [self[name] for name in ("max_upload_mb", "typing_preview", "satisfaction")]

    def invitation_fields(self):
        return [self[name] for name in ("invite_de", "invite_en", "invite_url", "invite_after", "invite_pages",
                                        "invite_returning", "invite_period")]

    def hour_rows(self):
        return [(DAY_LABELS[day], self[f"{day}_opens"], self[f"{day}_closes"]) for day in DAYS]

    def clean(self):
        data = super().clean()
        for day in DAYS:
            opens, closes = data.get(f"{day}_opens"), data.get(f"{day}_closes")
            if bool(opens) != bool(closes):
                self.add_error(f"{day}_closes", _("Give both times, or neither for a closed day."))
            elif opens and closes and opens >= closes:
                self.add_error(f"{day}_closes", _("Closing time must be after the opening time."))
        return data

    def settings(self) -> dict:
        data = self.cleaned_data
        hours = {day: [data[f"{day}_opens"].strftime("%H:%M"), data[f"{day}_closes"].strftime("%H:%M")]
                 for day in DAYS if data.get(f"{day}_opens") and data.get(f"{day}_closes")}
        settings = {**(self.channel.settings or {}),
                    "greeting": {"en": data["greeting_en"], "de": data["greeting_de"]},
                    "colour": data["colour"], "position": data["position"],
                    "allowed_origins": [o.strip() for o in data["allowed_origins"].splitlines() if o.strip()],
                    "hours": hours, "timezone": data["timezone"].strip(), "prechat": data["prechat"]}
        settings.update({"max_upload_mb": data["max_upload_mb"] or 5, "typing_preview": data["typing_preview"],
                         "satisfaction": data["satisfaction"], "invitation_period_hours": data["invite_period"] or 24})
        message = {k: data[f"invite_{k}"].strip() for k in ("de", "en") if data[f"invite_{k}"].strip()}
        rules = list(settings.get("invitations") or [])[1:]  # more rules come through the API or JSON settings
        if message:
            rules.insert(0, {"message": message, "url": data["invite_url"].strip() or "*",
                             "after_seconds": data["invite_after"] or 0, "min_pages": data["invite_pages"] or 0,
                             "returning": data["invite_returning"]})
        settings["invitations"] = rules
        if data.get("reply_channel"):
            settings["reply_channel"] = data["reply_channel"].name
        else:
            settings.pop("reply_channel", None)
        return settings
