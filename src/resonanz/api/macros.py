"""REST endpoints for canned replies, bulk changes and saved views: /api/macros/ (an agent's own and the
shared ones), /api/views/,
/api/conversations/<id>/apply-macro/ and /api/conversations/bulk/. Changes go through inbox actions."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.api.schema import any_of
from resonanz.core.params import MAX_ID
from resonanz.core.permissions import Needs
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation, Macro, SavedView, Team
from resonanz.inbox.queries import filter_conversations

User = get_user_model()


@any_of({"required": ["text"], "properties": {"text": {"pattern": r"\S"}}},
        {"required": ["status"], "properties": {"status": {"minLength": 1}}},
        {"required": ["tags"], "properties": {"tags": {"minItems": 1}}},
        {"required": ["team"], "properties": {"team": {"type": "integer"}}})
class MacroSerializer(serializers.ModelSerializer):
    """A macro needs a text or something it sets (status, tags, team)."""

    shared = serializers.BooleanField(default=False, help_text="shared with all agents (supervisors only)")
    tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=20)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.all(), required=False, allow_null=True)
    status = serializers.ChoiceField(choices=[""] + list(Conversation.Status.values), required=False,
                                     allow_blank=True)

    class Meta:
        model = Macro
        fields = ["id", "name", "text", "shared", "status", "tags", "team", "use_count", "created_at", "updated_at"]
        read_only_fields = ["use_count", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["shared"] = instance.owner_id is None
        return data


class MacroViewSet(viewsets.ModelViewSet):
    """Canned replies with placeholders ({customer_name}, {customer_first_name}, {agent_name}, {ticket},
    {subject}); a macro may also set status, tags and team when applied."""

    serializer_class = MacroSerializer

    def get_queryset(self):
        return actions.macros_for(self.request.user)

    def _save(self, serializer, macro):
        d = {"name": macro.name if macro else "", "text": macro.text if macro else "",
             "shared": macro.owner_id is None if macro else False, "status": macro.status if macro else "",
             "tags": macro.tags if macro else [], "team": macro.team if macro else None,
             **serializer.validated_data}
        serializer.instance = actions.save_macro(macro, self.request.user, **d)

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        actions.delete_macro(instance, self.request.user)


class ApplyMacroSerializer(serializers.Serializer):
    macro = serializers.IntegerField()


class ApplyMacroView(APIView):
    @extend_schema(request=ApplyMacroSerializer,
                   responses={200: {"type": "object", "properties": {"text": {"type": "string"}}}})
    def post(self, request, pk: int):
        """Apply a macro: sets its status, tags and team and answers the text with the placeholders filled in
        (send it with POST /api/conversations/<id>/reply/)."""
        conversation = get_object_or_404(Conversation, pk=pk)
        body = ApplyMacroSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        macro = get_object_or_404(actions.macros_for(request.user), pk=body.validated_data["macro"])
        return Response({"text": actions.apply_macro(conversation, macro, request.user), "macro": macro.pk})


@any_of("status", "team", "assignee", {"required": ["add_tags"], "properties": {"add_tags": {"minItems": 1}}})
class BulkSerializer(serializers.Serializer):
    conversations = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1,
                                          max_length=actions.BULK_LIMIT)
    status = serializers.ChoiceField(choices=Conversation.Status.values, required=False)
    team = serializers.PrimaryKeyRelatedField(queryset=Team.objects.filter(is_active=True), required=False,
                                              allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True, agent__isnull=False), required=False, allow_null=True)
    add_tags = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=10)


class BulkView(APIView):
    permission_classes = [Needs.of("conversations.bulk")]

    @extend_schema(request=BulkSerializer,
                   responses={200: {"type": "object", "properties": {"changed": {"type": "integer"}}}})
    def post(self, request):
        """One change (status, team, assignee, tags to add) on many conversations; all or none."""
        body = BulkSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        d = body.validated_data
        changed = actions.bulk_update(d["conversations"], request.user, status=d.get("status"),
                                      team=d["team"] if "team" in d else "unchanged",
                                      assignee=d["assignee"] if "assignee" in d else (),
                                      add_tags=d.get("add_tags"))
        return Response({"changed": changed}, status=status.HTTP_200_OK)


class SavedViewSerializer(serializers.ModelSerializer):
    shared = serializers.BooleanField(default=False, help_text="for everyone (supervisors only)")
    params = serializers.DictField(child=serializers.CharField(max_length=200, allow_blank=True,
                                                                  trim_whitespace=False),
                                   help_text=f"inbox filters: {', '.join(SavedView.PARAMS)}")
    count = serializers.SerializerMethodField()

    class Meta:
        model = SavedView
        fields = ["id", "name", "shared", "params", "count", "created_at"]
        read_only_fields = ["created_at"]

    def get_count(self, view) -> int:
        """How many conversations the view shows now."""
        return filter_conversations(Conversation.objects.all(), view.params, self.context["request"].user).count()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["shared"] = instance.owner_id is None
        return data


class SavedViewSet(viewsets.ModelViewSet):
    """Named inbox filter sets, personal or shared, with the number of conversations each shows now;
    list a view's conversations with GET /api/conversations/?<its params>."""

    serializer_class = SavedViewSerializer

    def get_queryset(self):
        return actions.views_for(self.request.user)

    def _save(self, serializer, view):
        d = serializer.validated_data
        serializer.instance = actions.save_view(
            view, self.request.user, name=d.get("name", view.name if view else ""),
            params=d.get("params", view.params if view else {}),
            shared=d.get("shared", view.owner_id is None if view else False))

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        actions.delete_view(instance, self.request.user)
