"""What moderators do in the community UI, over the API: move and merge questions, edit and merge tags, the
queue of held posts and members' reports, members' rights and points.

The request bodies are validated here (a list, a number or a string instead of an object is a 400 that says
so); the rules live in ``community.actions``, which also writes the moderation log, exactly as for the forms
on the public pages and in ``/moderation/``. Permissions are the UI's: every agent reads and moderates
(``community.moderate``, which includes taking back the rights of a member's level); making a member a
moderator needs ``ideas.manage``.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from resonanz.api.params import json_object
from resonanz.api.schema import any_of
from resonanz.community import actions, queries
from resonanz.community.models import Report, ReputationEvent, Tag
from resonanz.core.errors import ActionError
from resonanz.core.params import MAX_ID
from resonanz.core.permissions import WritesNeed, can, denied_message
from resonanz.core.sanitize import clean_text

_ERROR = OpenApiTypes.OBJECT
#: the error answers every write here can give, for the schema
ERRORS = {
    400: OpenApiResponse(_ERROR, description='Bad input: `{"<field>": ["what is wrong"]}` or `{"detail": "…"}`'),
    403: OpenApiResponse(_ERROR, description="The token's role may not do this"),
    404: OpenApiResponse(_ERROR, description="No such item"),
    409: OpenApiResponse(_ERROR, description="The item's state forbids it (already merged, name taken)"),
}


def validated(serializer_class, request) -> dict:
    """The body checked against ``serializer_class``; a body that is not a JSON object is a 400 first."""
    body = serializer_class(data=json_object(request))
    body.is_valid(raise_exception=True)
    return body.validated_data


def require(request, permission: str) -> None:
    if not can(request.user, permission):
        raise PermissionDenied(denied_message(permission))


def reason_field() -> serializers.CharField:
    return serializers.CharField(min_length=3, max_length=1000, help_text="Why (3 to 1000 characters); shown to the "
                                                                          "author")


# --- questions ------------------------------------------------------------------------------------------


@any_of("tags", "product")
class QuestionMoveSerializer(serializers.Serializer):
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40), max_length=actions.MAX_TAGS, required=False,
        help_text="The question's tags afterwards (replacing the old ones; [] removes all); made lower-case slugs")
    product = serializers.CharField(max_length=100, required=False, allow_blank=True,
                                    help_text="The product afterwards (\"\" for none)")
    reason = reason_field()

    def validate(self, attrs):
        if "tags" not in attrs and "product" not in attrs:
            raise ValidationError({"tags": ["Give the tags or the product to move the question to."]})
        return attrs


class StaffAnswerSerializer(serializers.Serializer):
    body = serializers.CharField(min_length=5, max_length=20000,
                                 help_text="Markdown (rendered safely), 5 to 20,000 characters")


class AcceptSerializer(serializers.Serializer):
    answer = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="An answer of this question")


class QuestionMergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=MAX_ID,
                                    help_text="The question that stays; this one redirects there afterwards")
    reason = reason_field()


# --- tags -----------------------------------------------------------------------------------------------


class TagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "description", "question_count"]
        read_only_fields = ["question_count"]


class TagEditSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=40, required=False,
                                 help_text="A new name (made a lower-case slug); a name another tag has is a 409")
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                        help_text="Shown on the tag's page (plain text)")


class TagMergeSerializer(serializers.Serializer):
    into = serializers.CharField(max_length=40, help_text="The name of the tag that stays")


class TagViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The forum's tags; moderators rename, describe and merge them (as on the public tags page)."""

    serializer_class = TagSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]

    @extend_schema(parameters=[OpenApiParameter("q", str, description="Tags whose name starts with this")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        qs = Tag.objects.order_by("-question_count", "name")
        start = self.request.query_params.get("q", "")
        if self.action == "list" and start:
            qs = qs.filter(name__startswith=clean_text(start, 40).strip().lower())
        return qs

    @extend_schema(request=TagEditSerializer, responses={200: TagSerializer, **ERRORS})
    def partial_update(self, request, pk=None):
        """Rename and/or describe the tag (logged in the moderation log)."""
        data = validated(TagEditSerializer, request)
        tag = actions.edit_tag(self.get_object(), name=data.get("name"), description=data.get("description"),
                               actor=request.user)
        return Response(TagSerializer(tag).data)

    @extend_schema(request=TagMergeSerializer, responses={200: TagSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge this tag into another: its questions get the other tag (once) and this tag is deleted.
        The answer is the tag that stays."""
        data = validated(TagMergeSerializer, request)
        drop = self.get_object()
        keep = Tag.objects.filter(name=actions.tag_slug(data["into"], "into")).first()
        if keep is None:
            raise ActionError(f"There is no tag “{data['into']}”.", "into")
        return Response(TagSerializer(actions.merge_tags(keep, drop, actor=request.user)).data)


# --- the moderation queue: reports and held posts -------------------------------------------------------


class ReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Report
        fields = ["id", "target_kind", "target_id", "reason", "reporter", "created_at", "resolved_at"]


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Members' reports of posts. Removing the post (``POST /api/community/moderation/``) resolves its open
    reports; ``dismiss`` closes one without acting on the post."""

    serializer_class = ReportSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]

    @extend_schema(parameters=[OpenApiParameter("state", str, enum=["open", "resolved", "all"],
                                                description="open (the default), resolved or all")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        qs = Report.objects.order_by("created_at", "id")
        if self.action != "list":
            return qs
        state = self.request.query_params.get("state", "open")
        if state not in ("open", "resolved", "all"):
            raise ValidationError({"state": ["Use open, resolved or all."]})
        if state == "open":
            return qs.filter(resolved_at__isnull=True)
        return qs.filter(resolved_at__isnull=False) if state == "resolved" else qs

    @extend_schema(request=None, responses={200: ReportSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        report = self.get_object()
        actions.dismiss_report(report, request.user)
        report.refresh_from_db()
        return Response(ReportSerializer(report).data)


class HeldPostSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(actions.MODELS))
    id = serializers.IntegerField()
    title = serializers.CharField(help_text="The question's or idea's title (of the thread, for answers and comments)")
    text = serializers.CharField(help_text="The start of the text")
    author = serializers.IntegerField(help_text="The member's id")
    created_at = serializers.DateTimeField()


def held_posts() -> list[dict]:
    return [{**row, "author": row["author"].pk} for row in queries.held_posts()]


# --- members --------------------------------------------------------------------------------------------


class ModeratorSerializer(serializers.Serializer):
    on = serializers.BooleanField(help_text="true makes the member a moderator, false takes it back")


class RightsSerializer(serializers.Serializer):
    revoked = serializers.BooleanField(
        help_text="true takes back the rights the member's reputation level gives (edit tags, close "
                  "duplicates, moderate new members' posts); false gives them back")
    reason = reason_field()


class RevokeSerializer(serializers.Serializer):
    reason = reason_field()


class ReputationEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReputationEvent
        fields = ["id", "points", "reason", "question", "answer", "idea", "source", "revoked_reason",
                  "revoked_at", "created_at"]
