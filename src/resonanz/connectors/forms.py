from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import kinds
from resonanz.inbox.models import Team


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"))
    name = forms.CharField(label=_("Name"), max_length=120)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    sign_replies = forms.BooleanField(label=_("Sign replies with the agent's initials"), required=False)
    default_team = forms.ModelChoiceField(label=_("Team for new conversations"), required=False,
                                          queryset=Team.objects.filter(is_active=True))

    def __init__(self, *args, instance_channel=None, **kwargs):
        if instance_channel is not None:
            kwargs["initial"] = {
                "kind": instance_channel.kind, "name": instance_channel.name, "enabled": instance_channel.enabled,
                "sign_replies": instance_channel.sign_replies, "default_team": instance_channel.default_team,
            }
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k, k.replace("_", " ")) for k in kinds()]
        if instance_channel is not None:
            self.fields["kind"].disabled = True

    def channel_fields(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("kind", "name", "enabled", "sign_replies", "default_team")}
