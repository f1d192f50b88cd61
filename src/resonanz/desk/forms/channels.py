import json

from django import forms
from django.utils.translation import gettext_lazy as _

from resonanz.connectors.drivers import choices, driver_class, get_driver, kinds
from resonanz.connectors.drivers.base import ConnectField
from resonanz.core import outbound
from resonanz.core.crypto import mask
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
        self.channel = instance_channel
        self.fields["kind"].choices = choices()
        # the page ticks "sign replies" when the administrator picks a kind that signs by default
        self.fields["kind"].widget.attrs["data-signs"] = " ".join(k for k in kinds() if driver_class(k).signs_replies)
        self._add_connect_fields()
        self.fields["settings"].help_text = _('For email, e.g. %(example)s') % {"example": json.dumps(EMAIL_EXAMPLE)}
        self.instance_channel = instance_channel
        if instance_channel is not None:
            self.fields["kind"].disabled = True
            hint = getattr(get_driver(instance_channel), "settings_help", "")
            if hint:
                self.fields["settings"].help_text = hint
        self._add_platform_fields()

    # --- the values each platform issues, as their own fields (ChannelField on the driver) -------

    def _add_platform_fields(self) -> None:
        """One input per value the platform issues; on the add page every kind's, shown for the chosen kind."""
        editing = self.instance_channel
        for kind in ([editing.kind] if editing is not None else kinds()):
            cls = driver_class(kind)
            for spec in cls.fields:
                name = f"{kind}__{spec.name}"
                label = spec.label if editing is not None else f"{cls.label}: {spec.label}"
                widget = (forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
                          if spec.secret else forms.TextInput(attrs={"spellcheck": "false"}))
                widget.attrs["data-kind"] = kind
                initial = spec.initial
                if editing is not None and not spec.secret:
                    initial = str((editing.settings or {}).get(spec.name) or spec.initial)
                help_text = spec.help
                if spec.secret and editing is not None:
                    stored = spec.name in (editing.credentials or {})
                    help_text = f"{spec.help} " + str(_("Stored; leave empty to keep it.") if stored else _("Not set yet."))
                self.fields[name] = forms.CharField(label=label, required=False, initial=initial, widget=widget,
                                                    help_text=help_text, max_length=2000)

    def platform_values(self, kind: str) -> tuple[dict, dict]:
        """(settings, credentials) from the platform fields of ``kind``."""
        settings, credentials = {}, {}
        for spec in driver_class(kind).fields:
            value = (self.cleaned_data.get(f"{kind}__{spec.name}") or "").strip()
            if value:
                (credentials if spec.secret else settings)[spec.name] = value
        return settings, credentials

    def clean(self):
        cleaned = super().clean()
        self._clean_connect_fields(cleaned)
        kind = self.instance_channel.kind if self.instance_channel is not None else cleaned.get("kind")
        if kind in kinds():
            stored = self.instance_channel.credentials if self.instance_channel is not None else {}
            for spec in driver_class(kind).fields:
                name = f"{kind}__{spec.name}"
                if spec.required and not (cleaned.get(name) or "").strip() and not (spec.secret and spec.name in stored):
                    self.add_error(name, _("The platform issues this value; it is needed to connect."))
        return cleaned

    # --- the chosen kind's connect fields (server address, token, listening queries, …) -------------------

    def _add_connect_fields(self) -> None:
        """One form field per driver ``ConnectField``, named ``<kind>__<key>``; the page shows the chosen kind's."""
        stored_settings = self.channel.settings or {} if self.channel else {}
        try:
            stored_secrets = self.channel.credentials if self.channel else {}
        except Exception:  # a key that no longer decrypts: the administrator enters the secret again
            stored_secrets = {}
        for kind in [self.channel.kind] if self.channel else kinds():
            for spec in driver_class(kind).connect_fields:
                attrs = {"data-kind": kind}
                if spec.secret:
                    stored = mask(str(stored_secrets.get(spec.key) or ""))
                    field = forms.CharField(widget=forms.PasswordInput(
                        render_value=False, attrs={**attrs, "autocomplete": "new-password"}))
                    field.help_text = f"{spec.help} " + (
                        str(_("Stored encrypted: %(masked)s. Leave empty to keep it.")) % {"masked": stored}
                        if stored else str(_("Stored encrypted, never shown again.")))
                elif spec.choices:
                    field = forms.ChoiceField(choices=spec.choices, widget=forms.Select(attrs=attrs),
                                              help_text=spec.help)
                    field.initial = stored_settings.get(spec.key) or spec.choices[0][0]
                elif spec.lines:
                    field = forms.CharField(widget=forms.Textarea(attrs={**attrs, "rows": 3}), help_text=spec.help)
                    value = stored_settings.get(spec.key) or []
                    field.initial = "\n".join(str(v) for v in value) if isinstance(value, list) else str(value)
                else:
                    field = forms.CharField(widget=forms.TextInput(attrs=attrs), help_text=spec.help)
                    field.initial = stored_settings.get(spec.key, "")
                field.label, field.required = spec.label, False
                self.fields[f"{kind}__{spec.key}"] = field
        order = [n for n in self.fields if n not in ("settings", "credentials")] + ["settings", "credentials"]
        self.order_fields(order)

    def _kind(self) -> str:
        return self.channel.kind if self.channel else self.cleaned_data.get("kind", "")

    def _connect_specs(self) -> list[ConnectField]:
        kind = self._kind()
        return list(driver_class(kind).connect_fields) if kind in kinds() else []

    def _clean_connect_fields(self, cleaned: dict) -> None:
        kind = self._kind()
        settings = cleaned.get("settings") or {}
        credentials = cleaned.get("credentials") or {}
        stored = self.channel.credentials if self.channel else {}
        for spec in self._connect_specs():
            name = f"{kind}__{spec.key}"
            value = (cleaned.get(name) or "").strip()
            if value and spec.key.endswith("_url"):
                try:
                    outbound.check_url(value)
                except outbound.RefusedURL as exc:
                    self.add_error(name, exc.message)
            present = value or (credentials.get(spec.key) or stored.get(spec.key) if spec.secret
                                else settings.get(spec.key))
            if spec.required and not present:
                self.add_error(name, _("This field is required for %(kind)s.") % {"kind": driver_class(kind).label})

    def _connect_values(self) -> tuple[dict, dict]:
        """(settings, credentials) the connect fields give; an empty secret keeps the stored one."""
        settings, secrets = {}, {}
        kind = self._kind()
        for spec in self._connect_specs():
            value = (self.cleaned_data.get(f"{kind}__{spec.key}") or "").strip()
            if spec.secret:
                if value:
                    secrets[spec.key] = value
            elif spec.lines:
                settings[spec.key] = [line.strip() for line in value.splitlines() if line.strip()]
            elif value or self.channel is not None:
                settings[spec.key] = value.rstrip("/") if spec.key.endswith("_url") else value
        return settings, secrets

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
        kind = self.instance_channel.kind if self.instance_channel is not None else fields["kind"]
        platform_settings, platform_secrets = self.platform_values(kind)  # ChannelField (messaging platforms)
        connect_settings, connect_secrets = self._connect_values()  # ConnectField (social networks)
        fields["settings"] = {**(fields["settings"] or {}), **platform_settings, **connect_settings}
        credentials = {**(self.cleaned_data.get("credentials") or {}), **platform_secrets, **connect_secrets}
        if credentials:
            fields["credentials"] = credentials
        return fields
