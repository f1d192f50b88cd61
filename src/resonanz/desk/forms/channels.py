import json

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import choices, get_driver
from resonanz.inbox.models import Team

EMAIL_EXAMPLE = {
    "imap_host": "imap.example.com", "imap_port": 993, "imap_security": "ssl", "imap_folder": "INBOX",
    "smtp_host": "smtp.example.com", "smtp_port": 587, "smtp_security": "starttls",
    "from_address": "support@example.com", "from_name": "Example Support",
}


class ChannelForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"))
    name = forms.CharField(label=_("Name"), max_length=120)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    sign_replies = forms.BooleanField(label=_("Sign replies with the agent's initials"), required=False)
    default_team = forms.ModelChoiceField(label=_("Team for new conversations"), required=False,
                                          queryset=Team.objects.filter(is_active=True))
    poll_interval = forms.IntegerField(label=_("Poll every (seconds)"), min_value=15, initial=60, required=False)
    settings = forms.CharField(label=_("Settings (JSON)"), required=False,
                               widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}))
    credentials = forms.CharField(
        label=_("Credentials (JSON)"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text=_('e.g. {"imap_username": "…", "imap_password": "…"}. Stored encrypted and never shown again; '
                    "leave empty to keep what is stored, give only the keys you want to change."))

    def __init__(self, *args, instance_channel=None, **kwargs):
        if instance_channel is not None:
            kwargs["initial"] = {
                "kind": instance_channel.kind, "name": instance_channel.name, "enabled": instance_channel.enabled,
                "sign_replies": instance_channel.sign_replies, "default_team": instance_channel.default_team,
                "poll_interval": instance_channel.poll_interval,
                "settings": json.dumps(instance_channel.settings or {}, indent=2, ensure_ascii=False),
            }
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = choices()
        self.fields["settings"].help_text = _('For email, e.g. %(example)s') % {"example": json.dumps(EMAIL_EXAMPLE)}
        if instance_channel is not None:
            self.fields["kind"].disabled = True
            hint = getattr(get_driver(instance_channel), "settings_help", "")
            if hint:
                self.fields["settings"].help_text = hint

    def _json(self, name: str) -> dict:
        raw = (self.cleaned_data.get(name) or "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                _("This is not valid JSON (line %(line)s, column %(col)s): %(msg)s"),
                params={"line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_('Enter a JSON object, e.g. {"key": "value"}.'))
        return value

    def clean_settings(self) -> dict:
        return self._json("settings")

    def clean_credentials(self) -> dict:
        return self._json("credentials")

    def channel_fields(self) -> dict:
        fields = {k: self.cleaned_data[k] for k in ("kind", "name", "enabled", "sign_replies", "default_team",
                                                   "poll_interval", "settings")}
        if self.cleaned_data.get("credentials"):
            fields["credentials"] = self.cleaned_data["credentials"]
        return fields
