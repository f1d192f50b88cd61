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
        }
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
        if data.get("reply_channel"):
            settings["reply_channel"] = data["reply_channel"].name
        else:
            settings.pop("reply_channel", None)
        return settings
