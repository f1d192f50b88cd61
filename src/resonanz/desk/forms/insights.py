"""Forms of the listening-query editor and of goals; validation beyond field types is the actions' job."""

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.connectors import drivers
from resonanz.connectors.models import Channel
from resonanz.inbox.models import Team
from resonanz.insights.models import AlertChannel, Goal, ListeningQuery

LANGUAGE_CHOICES = [("de", _("German")), ("en", _("English")), ("other", _("other languages"))]


class ListeningQueryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    expression = forms.CharField(label=_("Query"), widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
                                 help_text=ListeningQuery._meta.get_field("expression").help_text)
    tag = forms.ChoiceField(label=_("Tag"), choices=ListeningQuery.Tag.choices)
    languages = forms.MultipleChoiceField(label=_("Languages (none: all)"), choices=LANGUAGE_CHOICES,
                                          required=False, widget=forms.CheckboxSelectMultiple)
    channel_kinds = forms.MultipleChoiceField(label=_("Channel kinds (none: all)"), required=False,
                                              widget=forms.CheckboxSelectMultiple)
    channels = forms.ModelMultipleChoiceField(label=_("Only these channels (none: all)"), required=False,
                                              queryset=Channel.objects.order_by("name"),
                                              widget=forms.CheckboxSelectMultiple)
    include_messages = forms.BooleanField(label=_("Also match messages addressed to us"), required=False)
    launch_at = forms.DateField(label=_("Launch date (products and campaigns)"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}))
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel_kinds"].choices = drivers.choices()


class GoalForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.filter(is_active=True), required=False,
                                  empty_label=_("whole company"))
    kpi = forms.ChoiceField(label=_("KPI"), choices=Goal.Kpi.choices)
    target = forms.FloatField(label=_("Target"), min_value=0)
    period_days = forms.IntegerField(label=_("Period (days)"), min_value=1, max_value=366, initial=30)


class AlertChannelForm(forms.Form):
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.filter(is_active=True), required=False,
                                  empty_label=_("whole company"))
    kind = forms.ChoiceField(label=_("Send alerts"), choices=AlertChannel.Kind.choices)
    url = forms.CharField(label=_("Webhook address (only for webhooks)"), required=False, max_length=500,
                          widget=forms.URLInput(attrs={"placeholder": "https://"}))
    only_query = forms.ModelChoiceField(label=_("Only alerts of this listening query"), required=False,
                                        queryset=ListeningQuery.objects.order_by("name"),
                                        empty_label=_("every alert"))
