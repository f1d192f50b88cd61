import mimetypes

from django import forms
from django.contrib.auth import get_user_model
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from resonanz.core.errors import ActionError
from resonanz.inbox import files as reply_files
from resonanz.inbox.models import AgentProfile, Conversation, Team

User = get_user_model()


def sniff_image(head: bytes) -> str:
    """The image type its first bytes show (what the browser claims is not trusted), or ""."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return ""


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>`` (and the drop zone that fills it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        items = data if isinstance(data, (list, tuple)) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in items if item]


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4}))
    status = forms.ChoiceField(label=_("then set status"), required=False,
                               choices=[("", _("keep"))] + list(Conversation.Status.choices))
    private = forms.BooleanField(label=_("Reply privately (direct message)"), required=False)
    image = forms.FileField(label=_("Image"), required=False)
    image_alt = forms.CharField(label=_("Image description (alt text)"), required=False, max_length=1500)
    files = MultipleFileField(label=_("Files"), required=False)
    document = forms.FileField(label=_("Document"), required=False)

    def __init__(self, *args, alt_required: bool = True, **kwargs) -> None:
        """``alt_required``: the channel shows images' descriptions (social networks), so one is asked for."""
        super().__init__(*args, **kwargs)
        self.alt_required = alt_required

    def clean(self):
        cleaned = super().clean()
        uploads = cleaned.get("files") or []
        too_big = [f.name for f in uploads if f.size > reply_files.MAX_FILE_BYTES]
        if too_big:  # refused before reading it into memory
            self.add_error("files", _("%(names)s: a file may be at most %(mb)s MB.") % {
                "names": ", ".join(too_big), "mb": reply_files.MAX_FILE_BYTES // (1024 * 1024)})
        elif len(uploads) > reply_files.MAX_FILES or sum(f.size for f in uploads) > reply_files.MAX_TOTAL_BYTES:
            self.add_error("files", _("At most %(n)s files and %(mb)s MB per reply.") % {
                "n": reply_files.MAX_FILES, "mb": reply_files.MAX_TOTAL_BYTES // (1024 * 1024)})
        elif uploads:
            try:
                self.checked_files = reply_files.checked(
                    [{"filename": f.name, "content": f.read()} for f in uploads], channel_label="", sends_files=True)
            except ActionError as exc:
                self.add_error("files", exc.message)
        image = cleaned.get("image")
        if image:
            head = image.read(16)
            image.seek(0)
            self.image_type = sniff_image(head)
            if not self.image_type:
                self.add_error("image", _("Only PNG, JPEG, GIF and WebP images can be attached."))
            if self.alt_required and not (cleaned.get("image_alt") or "").strip():
                self.add_error("image_alt", _("Describe the image for people who cannot see it."))
        document = cleaned.get("document")
        if document:
            head = document.read(8)
            document.seek(0)
            guessed = mimetypes.guess_type(document.name)[0] or "application/octet-stream"
            if guessed == "application/pdf" and not head.startswith(b"%PDF"):
                self.add_error("document", _("This file is not a PDF, although its name says so."))
            self.document_type = guessed
            if guessed.startswith("image/"):  # images go through the image field, which checks their content
                self.add_error("document", _("Attach images as an image, not as a document."))
        return cleaned

    def attached_files(self) -> list[dict]:
        """The files checked in ``clean`` (``self.files`` is Django's own: the raw uploads)."""
        return list(getattr(self, "checked_files", []))

    def images(self) -> list[dict]:
        """The attached files (an image and a document at most), as ``send_reply`` takes them."""
        found = []
        image = self.cleaned_data.get("image")
        if image:
            found.append({"filename": image.name, "content_type": self.image_type, "content": image.read(),
                          "alt": self.cleaned_data["image_alt"].strip()})
        document = self.cleaned_data.get("document")
        if document:
            found.append({"filename": document.name, "content_type": self.document_type, "content": document.read()})
        return found


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}))


class QuickSelect(forms.Select):
    """A select whose options are written in Python.

    Django renders a template per option; with fifty agents in the assignee menu that made the conversation page's
    side form 14 ms of its 67 ms, the page every agent opens most (bench/load.py on PostgreSQL).
    """

    def render(self, name, value, attrs=None, renderer=None) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join("", "<option value=\"{}\"{}>{}</option>", (
            (option["value"], mark_safe(" selected") if option["selected"] else "", option["label"])
            for _group, choices, _index in widget["optgroups"] for option in choices))
        return format_html("<select name=\"{}\"{}>{}</select>", name, flatatt(widget["attrs"]), options)


class ConversationForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Conversation.Status.choices, widget=QuickSelect)
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Conversation.Priority.choices, coerce=int,
                                      widget=QuickSelect)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.filter(is_active=True), required=False,
                                  widget=QuickSelect)
    assignee = forms.ModelChoiceField(label=_("Assignee"), required=False, widget=QuickSelect,
                                      queryset=User.objects.filter(is_active=True, agent__isnull=False,
                                                                   agent__is_bot=False).select_related("agent")
                                      .only("id", "agent__id", "agent__display_name"))  # a model each: 60 µs
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Separate tags with commas."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].label_from_instance = lambda u: u.agent.display_name

    def as_div(self) -> SafeString:
        """The markup of Django's div layout, written without a template per field (see QuickSelect)."""
        return format_html_join("", "<div>{}{}{}{}</div>", (
            (field.label_tag(), format_html('<div class="helptext" id="{}_helptext">{}</div>', field.auto_id,
                                            field.help_text) if field.help_text else "",
             field.errors or "", field) for field in self))


class TeamForm(forms.ModelForm):
    class Meta:
        model = Team
        fields = ["name", "description", "email", "is_active"]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email"))
    display_name = forms.CharField(label=_("Display name"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=AgentProfile.Role.choices)
    language = forms.ChoiceField(label=_("Language"), choices=[("en", "English"), ("de", "Deutsch")])
    teams = forms.ModelMultipleChoiceField(label=_("Teams"), queryset=Team.objects.filter(is_active=True),
                                           required=False, widget=forms.CheckboxSelectMultiple)


class AgentForm(forms.ModelForm):
    avatar_url = forms.URLField(label=_("avatar URL"), required=False, assume_scheme="https")

    class Meta:
        model = AgentProfile
        fields = ["display_name", "initials", "avatar_url", "role", "language", "teams", "is_available",
                  "max_load"]
        widgets = {"teams": forms.CheckboxSelectMultiple}


class ProfileForm(forms.ModelForm):
    avatar_url = forms.URLField(label=_("avatar URL"), required=False, assume_scheme="https")

    class Meta:
        model = AgentProfile
        fields = ["display_name", "initials", "avatar_url", "language", "is_available"]


class MacroForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    text = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 5}),
                           help_text=_("Placeholders: {customer_name}, {customer_first_name}, {agent_name}, "
                                       "{ticket}, {subject}"))
    shared = forms.BooleanField(label=_("Shared with all agents"), required=False)
    status = forms.ChoiceField(label=_("then set status"), required=False,
                               choices=[("", _("keep"))] + list(Conversation.Status.choices))
    tags = forms.CharField(label=_("add tags"), required=False, help_text=_("Separate tags with commas."))
    team = forms.ModelChoiceField(label=_("move to team"), queryset=Team.objects.filter(is_active=True),
                                  required=False)


class BulkForm(forms.Form):
    conversations = forms.TypedMultipleChoiceField(coerce=int, choices=[])  # validated by the action
    status = forms.ChoiceField(required=False, choices=[("", "")] + list(Conversation.Status.choices))
    team = forms.ModelChoiceField(queryset=Team.objects.filter(is_active=True), required=False)
    assignee = forms.CharField(required=False)  # "", "me", "none" or an id
    tag = forms.CharField(required=False, max_length=60)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ids = self.data.getlist("conversations") if hasattr(self.data, "getlist") else []
        self.fields["conversations"].choices = [(i, i) for i in ids]
