from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.automation.models import Guidelines, Rule, SLAPolicy
from resonanz.inbox.models import Team


class JSONText(forms.CharField):
    def __init__(self, *args, empty=None, **kwargs):
        self.empty = empty
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        return value if isinstance(value, str) else json.dumps(value if value is not None else self.empty,
                                                               indent=1, ensure_ascii=False)

    def to_python(self, value):
        value = (value or "").strip()
        if not value:
            return self.empty
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("This is not valid JSON: %(error)s"), params={"error": exc}) from None


class RuleForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    trigger = forms.ChoiceField(label=_("When"), choices=Rule.Trigger.choices)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    stop_processing = forms.BooleanField(label=_("Stop processing further rules when this one acts"),
                                         required=False)
    conditions = JSONText(label=_("Conditions (JSON)"), empty={})
    actions = JSONText(label=_("Actions (JSON)"), empty=[])


class CalendarForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    team = forms.ModelChoiceField(label=_("Team"), queryset=None, required=False)
    timezone = forms.CharField(label=_("Time zone"), required=False,
                               help_text=_("Empty: the installation's time zone."))
    hours = forms.CharField(label=_("Opening hours"), widget=forms.Textarea(attrs={"rows": 4}),
                            help_text=_("One line per day or range, e.g. “mon-fri 09:00-17:00” or "
                                        "“sat 10:00-14:00”."))
    holidays = forms.CharField(label=_("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("One date per line, e.g. 2025-12-25."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.filter(is_active=True)


class SLAPolicyForm(forms.ModelForm):
    class Meta:
        model = SLAPolicy
        fields = ["name", "team", "priority", "channel", "calendar", "first_response_minutes",
                  "resolution_minutes", "warn_before_minutes", "enabled"]


class GuidelinesForm(forms.ModelForm):
    class Meta:
        model = Guidelines
        fields = ["advertising_words", "forbidden_words", "require_signature", "check_language"]
        widgets = {"advertising_words": forms.Textarea(attrs={"rows": 4}),
                   "forbidden_words": forms.Textarea(attrs={"rows": 4})}
