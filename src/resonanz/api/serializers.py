"""What the REST API shows and accepts."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from resonanz.api.schema import any_of
from resonanz.api.strict import ANY_OBJECT, TypedJSONField
from resonanz.connectors import drivers
from resonanz.connectors.actions import last_check
from resonanz.connectors.models import Channel
from resonanz.crm.models import Contact, Identity, Organization
from resonanz.inbox.models import AgentProfile, Conversation, ConversationEvent, Message, Team
from resonanz.understanding.models import CatalogEntry

User = get_user_model()


class TagListField(serializers.ListField):
    # at least one character that is not white space: the schema says so (pattern), the field trims the rest
    child = serializers.RegexField(r"\S", max_length=64)

    def to_representation(self, data):
        return [t.name for t in data.all()] if hasattr(data, "all") else list(data)


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name", "domain", "notes", "created_at"]


class IdentitySerializer(serializers.ModelSerializer):
    class Meta:
        model = Identity
        fields = ["id", "contact", "kind", "handle", "display_name", "created_at"]


class NewIdentitySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Identity.Kind.choices)
    handle = serializers.CharField(max_length=320, help_text="phone and whatsapp: the digits (and +) count")


class ContactSerializer(serializers.ModelSerializer):
    identities = IdentitySerializer(many=True, read_only=True)
    tags = TagListField(required=False)
    custom_fields = TypedJSONField(schema=ANY_OBJECT, required=False, allow_null=True,
                                   help_text="Names and values of your own fields; null clears them.")
    new_identities = serializers.ListField(
        child=NewIdentitySerializer(), write_only=True, required=False,
        help_text='[{"kind": "email", "handle": "anna@example.com"}]',
    )

    class Meta:
        model = Contact
        fields = [
            "id", "name", "preferred_language", "lifecycle_stage", "owner", "organization", "tags",
            "custom_fields", "consent", "consent_at", "notes", "identities", "new_identities",
            "created_at", "updated_at",
        ]
        read_only_fields = ["consent_at", "created_at", "updated_at"]

    def validate_custom_fields(self, value):
        """null clears the fields (the column holds an object)."""
        return {} if value is None else value


class TeamSerializer(serializers.ModelSerializer):
    class Meta:
        model = Team
        fields = ["id", "name", "slug", "description", "email", "is_active"]
        read_only_fields = ["slug"]


class AgentSerializer(serializers.ModelSerializer):
    email = serializers.EmailField(source="user.email", read_only=True)
    is_active = serializers.BooleanField(source="user.is_active", read_only=True)
    user_id = serializers.IntegerField(source="user.id", read_only=True)
    # a web address the browser loads as the agent's picture: http(s) only, as the schema's pattern says
    avatar_url = serializers.RegexField(r"^https?://\S+$", max_length=200, required=False, allow_blank=True)

    class Meta:
        model = AgentProfile
        fields = ["id", "user_id", "email", "display_name", "initials", "avatar_url", "teams", "role",
                  "language", "is_available", "max_load", "is_active"]


def password_min_length() -> int:
    """The minimum length the password rules (AUTH_PASSWORD_VALIDATORS) set, for the schema."""
    for validator in django_settings.AUTH_PASSWORD_VALIDATORS:
        if validator["NAME"].endswith(".MinimumLengthValidator"):
            return int(validator.get("OPTIONS", {}).get("min_length", 8))
    return 1


class AgentInviteSerializer(serializers.Serializer):
    email = serializers.EmailField()
    display_name = serializers.CharField(required=False, allow_blank=True, default="")
    role = serializers.ChoiceField(choices=AgentProfile.Role.choices, default="agent")
    teams = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), many=True, required=False)
    language = serializers.ChoiceField(choices=[("en", "en"), ("de", "de")], default="en")
    password = serializers.CharField(required=False, write_only=True, min_length=password_min_length(),
                                     help_text="Checked against the password rules (length, common, similar to the email).")


class ChannelCheckSerializer(serializers.Serializer):
    """The last connection check of a channel (run by the worker)."""

    ok = serializers.BooleanField(required=False, allow_null=True)
    detail = serializers.CharField(required=False, allow_blank=True)
    at = serializers.DateTimeField(required=False, allow_null=True)
    pending = serializers.BooleanField(default=False)


class ChannelSerializer(serializers.ModelSerializer):
    # The driver registry is the only list of kinds; the schema's enum grows with it.
    kind = serializers.ChoiceField(choices=drivers.choices())
    settings = TypedJSONField(schema=ANY_OBJECT, required=False, help_text="The driver's settings for this kind.")
    credentials = serializers.DictField(write_only=True, required=False,
                                        help_text="Stored encrypted; never returned.")
    healthy = serializers.BooleanField(read_only=True)
    last_check = serializers.SerializerMethodField()

    class Meta:
        model = Channel
        fields = ["id", "kind", "name", "slug", "settings", "credentials", "enabled", "sign_replies",
                  "default_team", "healthy", "last_ok_at", "last_error", "last_error_at", "last_check", "created_at"]
        read_only_fields = ["slug", "last_ok_at", "last_error", "last_error_at", "created_at"]
        extra_kwargs = {"name": {"validators": []}, "kind": {"validators": []}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = drivers.choices()  # kinds registered after start-up count too

    @extend_schema_field(ChannelCheckSerializer(allow_null=True))
    def get_last_check(self, channel) -> dict | None:
        check = last_check(channel) if channel.pk else {}
        return ChannelCheckSerializer(check).data if check else None


class ChannelUpdateSerializer(ChannelSerializer):
    """A channel's kind stays what it was made as."""

    class Meta(ChannelSerializer.Meta):
        read_only_fields = [*ChannelSerializer.Meta.read_only_fields, "kind"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].read_only = True


class SenderSerializer(serializers.Serializer):
    handle = serializers.CharField(max_length=320)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


@any_of(*({"required": [name], "properties": {name: {"pattern": r"\S"}}} for name in ("text", "html")))
class InboundSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=300)
    sender = SenderSerializer()
    text = serializers.CharField(max_length=200_000, allow_blank=True, required=False, default="")
    html = serializers.CharField(required=False, allow_blank=True, default="")
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    in_reply_to = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    sent_at = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate(self, data):
        if not data.get("text", "").strip() and not data.get("html", "").strip():
            raise serializers.ValidationError({"text": ["The message needs text."]})
        return data


class IngestResultSerializer(serializers.Serializer):
    message_id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    contact_id = serializers.IntegerField()


class ConversationSerializer(serializers.ModelSerializer):
    tags = TagListField(read_only=True)
    reference = serializers.CharField(read_only=True)
    contact_name = serializers.CharField(source="contact.__str__", read_only=True)

    class Meta:
        model = Conversation
        fields = ["id", "reference", "subject", "channel", "contact", "contact_name", "status", "priority",
                  "team", "assignee", "tags", "created_at", "last_activity_at", "waiting_for_us",
                  "first_response_at", "resolved_at", "message_count", "filtered", "filtered_reason", "merged_into",
                  "is_public", "thread_key"]
        read_only_fields = fields


class ConversationMergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                    help_text="The conversation (same contact) that receives this one's messages.")


class ConversationSplitSerializer(serializers.Serializer):
    messages = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
                                     min_length=1, max_length=1000,
                                     help_text="Ids of this conversation's messages that become a new conversation.")
    subject = serializers.CharField(max_length=300, required=False, allow_blank=True)


class ConversationUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    priority = serializers.ChoiceField(choices=Conversation.Priority.choices, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.all(), required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), required=False)
    subject = serializers.CharField(max_length=300, required=False)


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    alt_text = serializers.CharField(help_text="What the image or video shows, as its author described it.")
    source_url = serializers.CharField(help_text="Where the file came from (a video is kept only as this link).")
    missing = serializers.CharField(help_text="Why the file is not stored (too large, not an image, unreachable).")
    download = serializers.SerializerMethodField(help_text="Where the file is downloaded (empty when not stored).")

    def get_download(self, attachment) -> str:
        return reverse("attachment-download", args=[attachment.pk]) if attachment.file else ""


class AnalysisSerializer(serializers.Serializer):
    language = serializers.CharField()
    sentiment = serializers.CharField()
    sentiment_score = serializers.FloatField()
    sentiment_confidence = serializers.FloatField()
    intents = serializers.ListField(child=serializers.CharField())
    urgency = serializers.FloatField()
    complexity = serializers.CharField()
    bot_answerable = serializers.BooleanField()
    relevance = serializers.FloatField()
    corrected = serializers.BooleanField()
    model_version = serializers.CharField()
    result = serializers.JSONField(help_text="the engine's full answer: every probability, entities, key phrases")


class MessageSerializer(serializers.ModelSerializer):
    attachments = AttachmentSerializer(many=True, read_only=True)
    analysis = serializers.SerializerMethodField()

    def get_analysis(self, message) -> dict | None:
        analysis = message.analysis_or_none
        return AnalysisSerializer(analysis).data if analysis else None

    class Meta:
        model = Message
        fields = ["id", "conversation", "channel", "direction", "external_id", "in_reply_to", "author_user",
                  "author_contact", "subject", "text", "html", "is_public", "delivery_status",
                  "delivery_detail", "sent_at", "received_at", "attachments", "analysis"]
        read_only_fields = fields


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(max_length=100_000)
    status = serializers.ChoiceField(choices=Conversation.Status.choices, required=False)
    files = serializers.ListField(
        child=serializers.FileField(), required=False, max_length=10,
        help_text="Files sent with the reply (multipart/form-data, the field repeated per file): channels that "
                  "send files only (email, web form), at most 10 MB each and 20 MB together; documents, images, "
                  "text and ZIP. Refused with 400 before anything is sent otherwise.")


class TemplateReplySerializer(serializers.Serializer):
    template = serializers.CharField(max_length=600, help_text="The template's key, name:language, as listed by "
                                                               "GET /api/conversations/{id}/templates/.")
    params = serializers.ListField(child=serializers.CharField(allow_blank=True, max_length=4000), max_length=20,
                                   required=False, default=list,
                                   help_text="One value per placeholder {{1}}, {{2}} … in order.")


class ReplyTemplateSerializer(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    language = serializers.CharField()
    category = serializers.CharField()
    body = serializers.CharField()
    params = serializers.IntegerField()


class TemplatesSerializer(serializers.Serializer):
    window_open = serializers.BooleanField(allow_null=True, help_text="null: the channel has no reply window")
    window_closes_at = serializers.DateTimeField(allow_null=True)
    templates = ReplyTemplateSerializer(many=True)


class ModerationSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["hide", "unhide", "delete"])
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class NoteSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=100_000)


class EventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConversationEvent
        fields = ["id", "conversation", "actor", "kind", "data", "reason", "created_at"]


class DuplicateSerializer(serializers.Serializer):
    contact = serializers.IntegerField(source="contact.pk")
    other = serializers.IntegerField(source="other.pk")
    contact_name = serializers.CharField(source="contact.__str__")
    other_name = serializers.CharField(source="other.__str__")
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=["email", "phone", "name"]))
    detail = serializers.ListField(child=serializers.CharField())


class NotDuplicateSerializer(serializers.Serializer):
    other = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(),
                                               help_text="The contact that is a different person.")


class MergeSerializer(serializers.Serializer):
    drop = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(),
                                              help_text="The contact merged into this one and removed.")


class CorrectionSerializer(serializers.Serializer):
    sentiment = serializers.ChoiceField(choices=["negative", "neutral", "positive"], required=False)
    intents = serializers.ListField(child=serializers.CharField(), required=False)
    language = serializers.ChoiceField(choices=["de", "en", "other"], required=False)


class CatalogEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = CatalogEntry
        fields = ["id", "name", "kind", "aliases"]


class EraseSerializer(serializers.Serializer):
    confirm = serializers.IntegerField(min_value=1, max_value=2**63 - 1,
                                       help_text="The contact's id again: the confirmation that erases for good.")


class ErasedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    erased = serializers.DictField(child=serializers.IntegerField(), help_text="How many rows of each kind went.")
