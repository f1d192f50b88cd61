"""REST endpoints of the community for agents and integrations: questions, ideas, members, moderation.

Every agent reads; moderation needs ``community.moderate``; idea statuses and merges need ``ideas.manage``.
Member email addresses are never part of a response. Writes go through the community actions.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from resonanz.api.params import json_object
from resonanz.community import actions, queries
from resonanz.community.models import Answer, Idea, IdeaLink, Member, ModerationAction, Question
from resonanz.community.rules import BADGES, level_for
from resonanz.core.permissions import WritesNeed, can, denied_message


class MemberSerializer(serializers.ModelSerializer):
    """What the public profile shows: never an email address or a contact's data."""

    is_staff = serializers.BooleanField(read_only=True)
    level = serializers.SerializerMethodField()
    badges = serializers.SerializerMethodField()
    avatar_url = serializers.SerializerMethodField(help_text="The member's picture (WebP, 256 px), null without one")

    class Meta:
        model = Member
        fields = ["id", "display_name", "about", "reputation", "is_staff", "is_moderator", "level", "badges",
                  "avatar_url", "created_at"]

    def get_avatar_url(self, obj) -> str | None:
        if not obj.avatar_version:
            return None
        return reverse("community:avatar", kwargs={"pk": obj.pk, "version": obj.avatar_version})

    def get_level(self, obj) -> str:
        return level_for(obj.reputation).code

    def get_badges(self, obj) -> list[str]:
        return [b.badge for b in obj.badges.all() if b.badge in BADGES]


class AuthorSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(source="name", read_only=True)
    is_staff = serializers.BooleanField(read_only=True)


class AnswerSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)

    class Meta:
        model = Answer
        fields = ["id", "author", "body", "body_html", "by_staff", "score", "visibility", "created_at"]


class QuestionSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Question
        fields = ["id", "title", "body", "body_html", "tags", "product", "author", "score", "answer_count",
                  "accepted_answer", "locked", "visibility", "escalated_at", "merged_into", "created_at"]


class QuestionDetailSerializer(QuestionSerializer):
    answers = AnswerSerializer(many=True, read_only=True)

    class Meta(QuestionSerializer.Meta):
        fields = [*QuestionSerializer.Meta.fields, "answers"]


class IdeaSerializer(serializers.ModelSerializer):
    author = AuthorSerializer(read_only=True)
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Idea
        fields = ["id", "title", "description", "product", "status", "status_note", "votes", "evidence",
                  "merged_into", "author", "visibility", "created_at"]

    def get_evidence(self, obj) -> dict:
        return queries.evidence(obj)


class QuestionViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]

    def get_serializer_class(self):
        return QuestionDetailSerializer if self.action == "retrieve" else QuestionSerializer

    @extend_schema(parameters=[OpenApiParameter("sort", str, enum=list(queries.SORTS)),
                               OpenApiParameter("tag", str), OpenApiParameter("q", str)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if self.action == "retrieve":
            return Question.objects.select_related("author").prefetch_related("tags", "answers__author")
        sort = self.request.query_params.get("sort", "newest")
        return queries.question_list(sort=sort if sort in queries.SORTS else "newest",
                                     tag=self.request.query_params.get("tag", "")[:40],
                                     search=self.request.query_params.get("q", "")[:200]).prefetch_related("tags")


class IdeaLinkSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdeaLink.Kind.choices)
    object_id = serializers.IntegerField(min_value=1)


class IdeaViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IdeaSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]

    def get_queryset(self):
        if self.action == "list":
            return queries.idea_list(status=self.request.query_params.get("status", ""))
        return Idea.objects.select_related("author")

    @extend_schema(request=inline_serializer("IdeaStatus", {
        "status": serializers.ChoiceField(choices=Idea.Status.choices), "note": serializers.CharField()}),
        responses=IdeaSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        if not can(request.user, "ideas.manage"):
            raise PermissionDenied(denied_message("ideas.manage"))
        data = json_object(request)
        idea = actions.set_idea_status(self.get_object(), status=str(data.get("status", "")),
                                       note=str(data.get("note", "")), actor=request.user)
        return Response(IdeaSerializer(idea).data)

    @extend_schema(request=IdeaLinkSerializer, responses=IdeaSerializer)
    @action(detail=True, methods=["post"])
    def links(self, request, pk=None):
        data = IdeaLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        idea = self.get_object()
        actions.link_idea(idea, kind=data.validated_data["kind"], object_id=data.validated_data["object_id"],
                          actor=request.user)
        return Response(IdeaSerializer(idea).data)


class MemberViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = MemberSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]
    queryset = Member.objects.filter(is_deleted=False).prefetch_related("badges").order_by("-reputation", "pk")


class ModerationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModerationAction
        fields = ["id", "action", "target_kind", "target_id", "target_title", "author", "actor", "reason",
                  "created_at"]


class ModerationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit log (GET) and a moderation action (POST: kind, id, action, reason[, body])."""

    serializer_class = ModerationSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]
    queryset = ModerationAction.objects.all()

    @extend_schema(request=inline_serializer("ModerateIn", {
        "kind": serializers.ChoiceField(choices=list(actions.MODELS)), "id": serializers.IntegerField(),
        "action": serializers.ChoiceField(choices=list(actions.ACTIONS)), "reason": serializers.CharField(),
        "body": serializers.CharField(required=False)}), responses=ModerationSerializer)
    def create(self, request):
        data = json_object(request)
        target = data.get("id")
        entry = actions.moderate(str(data.get("kind", "")), target if isinstance(target, int) else 0,
                                 str(data.get("action", "")), reason=str(data.get("reason", "")),
                                 body=str(data.get("body", "")), actor=request.user)
        return Response(ModerationSerializer(entry).data, status=201)

