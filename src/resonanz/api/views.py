"""REST endpoints. Views validate and call actions; none writes models directly."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.serializers import ModelSerializer
from rest_framework.views import APIView

from resonanz.api import inbound
from resonanz.api import serializers as s
from resonanz.api.params import BOOLEAN_WORDS, choice_params, choice_query, id_params, id_query
from resonanz.connectors import actions as channel_actions
from resonanz.connectors.models import Channel
from resonanz.core import audit, backpressure, fastsql
from resonanz.core.accounts import set_password_link
from resonanz.core.errors import ActionError
from resonanz.core.models import AuditEntry
from resonanz.core.params import as_int
from resonanz.core.parsers import SafeJSONParser
from resonanz.core.permissions import Needs, WritesNeed
from resonanz.crm import actions as crm_actions
from resonanz.crm import duplicates
from resonanz.crm import privacy as crm_privacy
from resonanz.crm.models import Contact, Identity, Organization
from resonanz.inbox import actions as inbox_actions
from resonanz.inbox import files as reply_files
from resonanz.inbox.models import AgentProfile, Attachment, Conversation, Message, Team
from resonanz.inbox.queries import (
    FILTER_VALUES,
    filter_conversations,
    visible_conversations,
    visible_messages,
)
from resonanz.understanding.actions import correct, delete_catalog_entry, save_catalog_entry
from resonanz.understanding.filters import SENTIMENT_VALUES
from resonanz.understanding.models import CatalogEntry

User = get_user_model()


AdminWritesOthersRead = WritesNeed.of("settings.manage")
SupervisorsDelete = Needs.of("contacts.delete")
Exporters = Needs.of("data.export")


class DestructiveNeedSupervisor:
    """Deleting (and the actions named in ``destructive_actions``) needs ``contacts.delete``; the rest any agent."""

    destructive_actions: tuple[str, ...] = ("destroy",)

    def get_permissions(self):
        if self.action in self.destructive_actions:
            return [IsAuthenticated(), SupervisorsDelete()]
        return super().get_permissions()


class ContactViewSet(DestructiveNeedSupervisor, viewsets.ModelViewSet):
    """Contacts. Deleting and merging are for supervisors and administrators and go to the audit log;
    a contact with conversations cannot be deleted (409): merge it instead."""

    serializer_class = s.ContactSerializer
    destructive_actions = ("destroy", "merge", "erase", "not_duplicate")

    def get_permissions(self):
        if self.action == "export":
            return [IsAuthenticated(), Exporters()]
        return super().get_permissions()

    def get_queryset(self):
        qs = Contact.objects.prefetch_related("identities", "tags").order_by("-updated_at")
        q = self.request.query_params.get("q")
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(identities__handle__icontains=q)).distinct()
        params = self.request.query_params
        if params.get("lifecycle_stage"):
            qs = qs.filter(lifecycle_stage=params["lifecycle_stage"])
        for value in id_params(params, "organization").values():
            qs = qs.filter(organization_id=value)
        return qs

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        identities = [(i.get("kind", ""), i.get("handle", "")) for i in data.pop("new_identities", [])]
        tags = data.pop("tags", None)
        contact = crm_actions.create_contact(identities=identities, actor=self.request.user, **data)
        if tags:
            crm_actions.update_contact(contact, tags=tags)
        serializer.instance = contact

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        identities = data.pop("new_identities", [])
        contact = crm_actions.update_contact(serializer.instance, actor=self.request.user, **data)
        for item in identities:
            crm_actions.add_identity(contact, item.get("kind", ""), item.get("handle", ""))
        serializer.instance = contact

    @extend_schema(request=s.MergeSerializer, responses=s.ContactSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge another contact into this one: identities, conversations and history move here."""
        keep = self.get_object()
        body = s.MergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contact = crm_actions.merge_contacts(keep, body.validated_data["drop"], actor=request.user)
        return Response(s.ContactSerializer(contact).data)

    @extend_schema(responses=s.DuplicateSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)  # at most 200 pairs, one list
    def duplicates(self, request):
        """Probable duplicate pairs (same email under another identity, same phone, similar name in one
        organisation), strongest first; pairs marked "not a duplicate" are left out."""
        return Response(s.DuplicateSerializer(duplicates.suggestions(limit=200), many=True).data)

    @extend_schema(responses=s.DuplicateSerializer(many=True), operation_id="contacts_duplicates_of")
    @action(detail=True, methods=["get"], url_path="duplicates")
    def duplicates_of(self, request, pk=None):
        """Probable duplicates of this contact."""
        return Response(s.DuplicateSerializer(duplicates.suggestions(self.get_object(), limit=50), many=True).data)

    @extend_schema(request=s.NotDuplicateSerializer, responses={204: None})
    @action(detail=True, methods=["post"], url_path="not-duplicate")
    def not_duplicate(self, request, pk=None):
        """Remember that this contact and ``other`` are different people: never suggested again."""
        body = s.NotDuplicateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        crm_actions.mark_not_duplicate(self.get_object(), body.validated_data["other"], actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_destroy(self, instance):
        crm_actions.delete_contact(instance, actor=self.request.user)

    @extend_schema(responses={(200, "application/zip"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """GDPR export: one ZIP with contact.json (contact, identities, conversations, messages, notes,
        attachments, analyses, community activity, survey answers, audit entries) and the attachment files.
        Supervisors and administrators; audit-logged."""
        contact = self.get_object()
        body = crm_privacy.export_zip(contact)
        audit.record("contact.export", actor=request.user, target=contact, format="zip", bytes=len(body))
        response = HttpResponse(body, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{crm_privacy.export_filename(contact)}"'
        return response

    @extend_schema(request=s.EraseSerializer, responses=s.ErasedSerializer)
    @action(detail=True, methods=["post"])
    def erase(self, request, pk=None):
        """GDPR erasure, not reversible: the contact and everything about it (messages, attachments on disk,
        analyses, community content, search index entries). ``confirm`` must repeat the contact's id.
        Supervisors and administrators; the audit entry keeps the id and the counts only."""
        contact = self.get_object()
        body = s.EraseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        counts = crm_actions.erase_contact(contact, actor=request.user, confirm=body.validated_data["confirm"])
        return Response({"id": int(pk), "erased": counts})


class IdentityViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      viewsets.GenericViewSet):
    serializer_class = s.IdentitySerializer
    queryset = Identity.objects.all().order_by("id")

    def get_queryset(self):
        qs = super().get_queryset()
        params = self.request.query_params
        for field in ("kind", "handle"):
            if params.get(field):
                qs = qs.filter(**{field: params[field]})
        for value in id_params(params, "contact").values():
            qs = qs.filter(contact_id=value)
        return qs

    def perform_create(self, serializer):
        d = serializer.validated_data
        serializer.instance = crm_actions.add_identity(d["contact"], d["kind"], d["handle"], d.get("display_name", ""))


class OrganizationViewSet(DestructiveNeedSupervisor, viewsets.ModelViewSet):
    serializer_class = s.OrganizationSerializer
    queryset = Organization.objects.all().order_by("name")

    def perform_create(self, serializer):
        serializer.instance = crm_actions.create_organization(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = crm_actions.update_organization(serializer.instance, **serializer.validated_data)

    def perform_destroy(self, instance):
        crm_actions.delete_organization(instance, actor=self.request.user)


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = s.TeamSerializer
    queryset = Team.objects.all().order_by("name")
    permission_classes = [AdminWritesOthersRead]

    def perform_create(self, serializer):
        serializer.instance = inbox_actions.create_team(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = inbox_actions.update_team(serializer.instance, **serializer.validated_data)


class AgentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                   viewsets.GenericViewSet):
    serializer_class = s.AgentSerializer
    queryset = AgentProfile.objects.select_related("user").prefetch_related("teams").order_by("display_name")
    permission_classes = [AdminWritesOthersRead]

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        teams = data.pop("teams", None)
        serializer.instance = inbox_actions.update_agent(serializer.instance, teams=teams, **data)

    @extend_schema(request=s.AgentInviteSerializer, responses={201: s.AgentSerializer})
    def create(self, request):
        """Invite an agent; without a password the answer carries a one-time link to set one."""
        body = s.AgentInviteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        user = inbox_actions.invite_agent(
            d["email"], display_name=d.get("display_name", ""), role=d["role"], teams=d.get("teams", []),
            language=d["language"], password=d.get("password"),
        )
        data = s.AgentSerializer(user.agent).data
        if not d.get("password"):
            data["set_password_url"] = request.build_absolute_uri(set_password_link(user))
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.AgentSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        profile = inbox_actions.set_agent_active(self.get_object(), False, request.user)
        return Response(s.AgentSerializer(profile).data)


class Busy(APIException):
    """503 with Retry-After (DRF's handler sends ``wait`` as the header)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = "busy"

    def __init__(self, exc: backpressure.Overloaded) -> None:
        super().__init__(backpressure.busy_message(exc.retry_after))
        self.wait = exc.retry_after


class ChannelViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ChannelSerializer
    queryset = Channel.objects.all().order_by("name")
    permission_classes = [AdminWritesOthersRead]

    def get_serializer_class(self):
        return s.ChannelUpdateSerializer if self.action in ("update", "partial_update") else s.ChannelSerializer

    def perform_create(self, serializer):
        serializer.instance = channel_actions.create_channel(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = channel_actions.update_channel(serializer.instance, **serializer.validated_data)

    @extend_schema(request=s.InboundSerializer, responses={
        200: s.IngestResultSerializer, 201: s.IngestResultSerializer,
        503: OpenApiResponse(description="the pipeline is far behind: nothing was stored; send again after "
                                         "Retry-After seconds")})
    @action(detail=True, methods=["post"])
    def inbound(self, request, pk=None):
        """Ingest one message from the client system; redelivery of the same external_id is harmless.

        While the pipeline is far behind (RESONANZ_BACKLOG_LIMIT_SIGNED messages wait), the answer is 503 with
        Retry-After and nothing is stored: send the same message again later."""
        try:
            backpressure.admit("signed")
        except backpressure.Overloaded as exc:
            raise Busy(exc) from None
        key = as_int(pk)
        channel = fastsql.get(Channel, "id", key) if key is not None else None  # precompiled: the hottest endpoint
        if channel is None:
            raise Http404
        if not channel.driver.accepts_api:
            raise ActionError(f"Channel {channel} is a {channel.kind} channel; post to an API channel.", "channel")
        if not channel.enabled:
            raise ActionError(f"Channel {channel} is disabled; enable it to accept messages.", "channel")
        body = s.InboundSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        stored = inbound.store(channel, body.validated_data)  # the lean route (api/inbound.py) stores the same way
        if isinstance(stored, ActionError):
            raise stored
        payload, created = stored
        return Response(payload, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)

    @extend_schema(request=None, responses={202: s.ChannelCheckSerializer})
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        """Queue a connection check: the worker connects (never this request); the answer is the last check
        so far, with ``pending`` true until the new one is done (``GET /api/channels/<id>/`` shows it as
        ``last_check``)."""
        channel = self.get_object()
        channel_actions.request_check(channel)
        return Response(s.ChannelCheckSerializer(channel_actions.last_check(channel)).data,
                        status=status.HTTP_202_ACCEPTED)

    def get_permissions(self):
        if self.action in ("inbound", None):  # None: a method the route does not offer, answered 405
            return [IsAuthenticated()]
        return super().get_permissions()


ASSIGNEE_WORDS = ("me", "none", "unassigned")
CONVERSATION_CHOICES = {
    "status": ["active", *Conversation.Status.values],
    "sentiment": list(SENTIMENT_VALUES),
    "waiting": BOOLEAN_WORDS,
    "filtered": ["only", "all", *sorted(FILTER_VALUES)],
}
CONVERSATION_FILTERS = [
    choice_query("status", CONVERSATION_CHOICES["status"], "active: new, open and pending"),
    id_query("team"), id_query("channel"), id_query("contact"),
    OpenApiParameter("assignee", {"type": "string", "pattern": f"^([1-9][0-9]{{0,17}}|{'|'.join(ASSIGNEE_WORDS)})$"},
                     description="a user id, 'me' or 'none'"),
    OpenApiParameter("tag", str), OpenApiParameter("q", str, description="search: a ticket number (RZ-321), words of the subject or of any "
                    "message, the customer's name, an email address or handle"),
    choice_query("sentiment", CONVERSATION_CHOICES["sentiment"], "of any customer message"),
    OpenApiParameter("intent", str, description="e.g. legal_threat, complaint (any customer message)"),
    OpenApiParameter("waiting", bool, description="last message came from the customer"),
    choice_query("filtered", CONVERSATION_CHOICES["filtered"], "machine-generated mail (bounces, auto-replies, "
                 "notices, lists) is left out unless asked: 'only' the filtered view, a kind such as 'bounce', or 'all'"),
]


class ConversationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.ConversationSerializer

    def get_queryset(self):
        qs = visible_conversations(Conversation.objects.all(), self.request.user)
        qs = qs.select_related("contact").prefetch_related("tags")
        if self.action != "list":
            return qs
        id_params(self.request.query_params, "team", "channel", "contact")
        id_params(self.request.query_params, "assignee", words=ASSIGNEE_WORDS)
        choice_params(self.request.query_params, **CONVERSATION_CHOICES)
        return filter_conversations(qs, self.request.query_params, self.request.user)

    @extend_schema(parameters=CONVERSATION_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=s.ConversationUpdateSerializer, responses=s.ConversationSerializer)
    def partial_update(self, request, pk=None):
        conversation = self.get_object()
        body = s.ConversationUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = dict(body.validated_data)
        kwargs = {k: d[k] for k in ("status", "priority", "tags", "subject") if k in d}
        if "team" in d:
            kwargs["team"] = d["team"]
        if "assignee" in d:
            kwargs["assignee"] = d["assignee"]
        conversation = inbox_actions.update_conversation(conversation, request.user, **kwargs)
        return Response(s.ConversationSerializer(conversation).data)

    @extend_schema(responses=s.MessageSerializer(many=True))
    @action(detail=True, methods=["get"])
    def messages(self, request, pk=None):
        conversation = self.get_object()
        qs = (Message.objects.filter(conversation=conversation).select_related("analysis")
              .prefetch_related("attachments").order_by("id"))
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(s.MessageSerializer(page, many=True).data)

    @extend_schema(responses=s.EventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        conversation = self.get_object()
        page = self.paginate_queryset(conversation.events.order_by("id"))
        return self.get_paginated_response(s.EventSerializer(page, many=True).data)

    @extend_schema(request={"application/json": s.ReplySerializer, "multipart/form-data": s.ReplySerializer},
                   responses={201: s.MessageSerializer})
    @action(detail=True, methods=["post"], parser_classes=[SafeJSONParser, MultiPartParser])
    def reply(self, request, pk=None):
        conversation = self.get_object()
        body = s.ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        uploads = body.validated_data.get("files") or []
        too_big = [f.name for f in uploads if f.size > reply_files.MAX_FILE_BYTES]
        if too_big:
            raise ActionError(f"{', '.join(too_big)}: a file may be at most "
                              f"{reply_files.MAX_FILE_BYTES // (1024 * 1024)} MB.", "files")
        try:
            message = inbox_actions.send_reply(conversation, request.user, body.validated_data["text"],
                                               status=body.validated_data.get("status"),
                                               files=[{"filename": f.name, "content": f.read()} for f in uploads])
        except ActionError as exc:
            pending = getattr(exc, "pending", None)
            if pending is None:
                raise
            # Accepted, not sent: a supervisor approves it first (see /api/pending-replies/).
            return Response({"detail": exc.message, "pending_reply_id": pending.pk}, status=status.HTTP_202_ACCEPTED)
        message.refresh_from_db()
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ConversationMergeSerializer, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Move this conversation's messages into ``into`` (same contact); this one is closed and links there."""
        conversation = self.get_object()
        body = s.ConversationMergeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        target = self.get_queryset().filter(pk=body.validated_data["into"]).first()
        if target is None:
            raise ActionError(f"No conversation with id {body.validated_data['into']}.", "into")
        target = inbox_actions.merge_conversations(conversation, target, request.user)
        return Response(s.ConversationSerializer(target).data)

    @extend_schema(request=None, responses=s.ConversationSerializer)
    @action(detail=True, methods=["post"])
    def unmerge(self, request, pk=None):
        """Undo a merge: the messages that came from this conversation move back, its status is restored."""
        conversation = inbox_actions.unmerge_conversation(self.get_object(), request.user)
        return Response(s.ConversationSerializer(conversation).data)

    @extend_schema(request=s.ConversationSplitSerializer, responses={201: s.ConversationSerializer})
    @action(detail=True, methods=["post"])
    def split(self, request, pk=None):
        """The listed messages become a new conversation of the same contact and channel."""
        conversation = self.get_object()
        body = s.ConversationSplitSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new = inbox_actions.split_conversation(conversation, body.validated_data["messages"], request.user,
                                               subject=body.validated_data.get("subject", ""))
        return Response(s.ConversationSerializer(new).data, status=status.HTTP_201_CREATED)
    @extend_schema(responses=s.TemplatesSerializer)
    @action(detail=True, methods=["get"])
    def templates(self, request, pk=None):
        """The approved templates this conversation's channel offers (WhatsApp) and whether free text is still
        allowed (the 24-hour window); 503 when the platform cannot be asked."""
        conversation = self.get_object()
        driver = conversation.channel.driver
        try:
            found = driver.reply_templates()
        except Exception as exc:  # the platform is down or the token was revoked
            raise ActionError(f"The templates could not be loaded: {str(exc)[:300]}", status=503) from exc
        windowed = driver.reply_window is not None
        return Response(s.TemplatesSerializer({
            "window_open": driver.window_open(conversation) if windowed else None,
            "window_closes_at": driver.window_closes_at(conversation) if windowed else None,
            "templates": [{"key": t.key, "name": t.name, "language": t.language, "category": t.category,
                           "body": t.body, "params": t.params} for t in found]}).data)

    @extend_schema(request=s.TemplateReplySerializer, responses={201: s.MessageSerializer})
    @action(detail=True, methods=["post"])
    def template(self, request, pk=None):
        """Send an approved template with its placeholders filled (inside and outside the reply window)."""
        conversation = self.get_object()
        body = s.TemplateReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            message = inbox_actions.send_template(conversation, request.user, body.validated_data["template"],
                                                  body.validated_data["params"])
        except ActionError as exc:
            pending = getattr(exc, "pending", None)
            if pending is None:
                raise
            return Response({"detail": exc.message, "pending_reply_id": pending.pk}, status=status.HTTP_202_ACCEPTED)
        message.refresh_from_db()
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.NoteSerializer, responses={201: s.MessageSerializer})
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        conversation = self.get_object()
        body = s.NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        message = inbox_actions.add_note(conversation, request.user, body.validated_data["text"])
        return Response(s.MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class MessageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = s.MessageSerializer

    @extend_schema(request=s.CorrectionSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def correction(self, request, pk=None):
        """Correct sentiment, intents or language of a customer message; it trains the next model version."""
        message = self.get_object()
        body = s.CorrectionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        correct(message, request.user, **body.validated_data)
        message = Message.objects.select_related("analysis").get(pk=message.pk)
        return Response(s.MessageSerializer(message).data)

    @extend_schema(request=s.ModerationSerializer, responses=s.MessageSerializer)
    @action(detail=True, methods=["post"])
    def moderate(self, request, pk=None):
        """Hide, show again or delete a customer's public comment on the platform (Facebook, Instagram)."""
        message = self.get_object()
        body = s.ModerationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inbox_actions.moderate_comment(message, request.user, body.validated_data["action"],
                                       reason=body.validated_data["reason"])
        return Response(s.MessageSerializer(Message.objects.select_related("analysis").get(pk=message.pk)).data)

    def get_queryset(self):
        qs = visible_messages(Message.objects.all(), self.request.user)
        qs = qs.select_related("analysis").prefetch_related("attachments").order_by("-id")
        params = self.request.query_params
        if params.get("direction"):
            qs = qs.filter(direction=params["direction"])
        for field, value in id_params(params, "conversation", "channel", "author_contact").items():
            qs = qs.filter(**{f"{field}_id": value})
        return qs


class CatalogViewSet(viewsets.ModelViewSet):
    """Products, brands, competitors and the company itself: the names the engine looks for."""

    serializer_class = s.CatalogEntrySerializer
    permission_classes = [AdminWritesOthersRead]

    def get_queryset(self):
        return CatalogEntry.objects.all()

    def perform_create(self, serializer):
        serializer.instance = save_catalog_entry(**serializer.validated_data)

    def perform_update(self, serializer):
        data = {"name": serializer.instance.name, "kind": serializer.instance.kind,
                "aliases": serializer.instance.aliases, **serializer.validated_data}
        serializer.instance = save_catalog_entry(entry=serializer.instance, **data)

    def perform_destroy(self, instance):
        delete_catalog_entry(instance)


class AuditEntrySerializer(ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = ["id", "created_at", "actor", "actor_label", "action", "target_type", "target_id", "target_label",
                  "detail", "ip_address", "request_id"]


class AuditLogViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit log, newest first (administrators only). Filter with ?action=contact.delete."""

    serializer_class = AuditEntrySerializer
    permission_classes = [Needs.of("audit.read")]

    @extend_schema(parameters=[OpenApiParameter("action", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        qs = AuditEntry.objects.order_by("-id")
        if self.request.query_params.get("action"):
            qs = qs.filter(action=self.request.query_params["action"])
        return qs


class AttachmentDownloadView(APIView):
    """A stored attachment of a message the caller may see, always as a download (no content runs in our origin)."""

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    def get(self, request, pk: int):
        item = get_object_or_404(Attachment, pk=pk, message__in=visible_messages(Message.objects.all(), request.user))
        if not item.file:
            raise Http404("the attachment's content was not stored")
        response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.filename,
                                content_type="application/octet-stream")
        response["X-Content-Type-Options"] = "nosniff"
        return response
