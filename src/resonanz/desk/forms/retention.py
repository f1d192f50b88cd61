from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.models import Channel
from resonanz.inbox.models import RetentionRule


class RetentionRuleForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Channel.objects.order_by("name"), required=False,
                                     empty_label=_("All channels without a rule of their own"))
    days = forms.IntegerField(label=_("Keep closed conversations for (days)"), min_value=1, max_value=36500,
                              initial=365)
    action = forms.ChoiceField(label=_("then"), choices=RetentionRule.Action.choices,
                               initial=RetentionRule.Action.ANONYMISE)
    enabled = forms.BooleanField(label=_("enabled"), required=False, initial=True)
