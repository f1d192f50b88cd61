"""REST endpoints of the community for agents and integrations: questions, ideas, members, moderation.

Every agent reads; moderation (including moving and merging questions, editing tags, members' level rights
and points, see ``community_curation``) needs ``community.moderate``; idea statuses and merges, making an
idea of a group of similar items (``ideas/from-group/``, the groups of ``/api/insights/ideas/``) and making
moderators need ``ideas.manage``. Member email addresses are never part of a response. Writes go through the
community actions, which keep the moderation log.
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.api import community_curation as cur
from resonanz.api.params import choice_params, choice_query
from resonanz.community import actions, clusters, queries
from resonanz.community.models import (
    Answer,
    Idea,
    IdeaLink,
    Member,
    ModerationAction,
    Question,
    ReputationEvent,
    Visibility,
)
from resonanz.community.rules import BADGES, level_for
from resonanz.core.errors import ActionError
from resonanz.core.params import MAX_ID, as_int
from resonanz.core.permissions import WritesNeed, can, denied_message
from resonanz.core.sanitize import clean_text
from resonanz.inbox.models import Conversation
from resonanz.inbox.queries import visible_conversations
from resonanz.listening.models import Post


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
        """Badge codes; a product badge is ``product_helper:<product>``."""
        return [f"{b.badge}:{b.scope}" if b.scope else b.badge for b in obj.badges.all() if b.badge in BADGES]


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
    """Questions; a merged duplicate keeps its id and names the question it went to in ``merged_into``."""

    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]

    def get_serializer_class(self):
        return QuestionDetailSerializer if self.action == "retrieve" else QuestionSerializer

    @extend_schema(parameters=[
        choice_query("sort", queries.SORTS), OpenApiParameter("tag", str),
        OpenApiParameter("product", str), OpenApiParameter("q", str),
        OpenApiParameter("visibility", str, enum=list(Visibility.values),
                         description="visible (the default); held lists new members' posts waiting for a moderator")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def get_queryset(self):
        if self.action != "list":
            return Question.objects.select_related("author").prefetch_related("tags", "answers__author")
        params = self.request.query_params
        choice_params(params, sort=queries.SORTS, visibility=Visibility.values)
        visibility = params.get("visibility") or Visibility.VISIBLE
        return queries.question_list(sort=params.get("sort") or "newest",
                                     tag=clean_text(params.get("tag"), 40), product=clean_text(params.get("product"), 100),
                                     search=clean_text(params.get("q"), 200),
                                     visibility=visibility).prefetch_related("tags")

    def _detail(self, pk: int) -> dict:
        return QuestionDetailSerializer(self.get_queryset().get(pk=pk)).data

    @extend_schema(request=cur.StaffAnswerSerializer, responses={201: AnswerSerializer, **cur.ERRORS})
    @action(detail=True, methods=["post"])
    def answers(self, request, pk=None):
        """Answer as staff (the token's agent, shown with the staff badge); followers are emailed."""
        data = cur.validated(cur.StaffAnswerSerializer, request)
        answer = actions.answer_question(actions.staff_member(request.user), self.get_object(), body=data["body"])
        return Response(AnswerSerializer(Answer.objects.select_related("author").get(pk=answer.pk)).data, status=201)

    @extend_schema(request=cur.AcceptSerializer, responses={200: QuestionDetailSerializer, **cur.ERRORS})
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        """Accept an answer of this question as a moderator (another accepted answer is replaced)."""
        data = cur.validated(cur.AcceptSerializer, request)
        question = self.get_object()
        answer = Answer.objects.filter(pk=data["answer"], question=question).first()
        if answer is None:
            raise ActionError(f"Question #{question.pk} has no answer #{data['answer']}.", "answer")
        actions.accept_answer(actions.staff_member(request.user), answer)
        return Response(self._detail(question.pk))

    @extend_schema(request=cur.QuestionMoveSerializer, responses={200: QuestionDetailSerializer, **cur.ERRORS})
    @action(detail=True, methods=["post"])
    def move(self, request, pk=None):
        """Put the question under other tags and/or another product, as the "Move" form on its page does.
        The reason goes to the moderation log and is shown to the author on their profile."""
        data = cur.validated(cur.QuestionMoveSerializer, request)
        question = actions.move_question(self.get_object(), tags=data.get("tags"), product=data.get("product"),
                                         reason=data["reason"], actor=request.user)
        return Response(self._detail(question.pk))

    @extend_schema(request=cur.QuestionMergeSerializer, responses={200: QuestionDetailSerializer, **cur.ERRORS})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """This question is a duplicate of ``into``: its answers, comments, votes (a member's once) and followers
        move there, its tags are added there, and its page redirects there (301). The answer is the question
        that stays. Merging twice, or into a question that was merged itself, is a 409."""
        data = cur.validated(cur.QuestionMergeSerializer, request)
        drop = self.get_object()
        keep = Question.objects.filter(pk=data["into"]).first()
        if keep is None:
            raise ActionError(f"There is no question #{data['into']}.", "into")
        kept = actions.merge_questions(keep, drop, reason=data["reason"], actor=request.user)
        return Response(self._detail(kept.pk))


class IdeaLinkSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=IdeaLink.Kind.choices)
    object_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)


class IdeaMergeSerializer(serializers.Serializer):
    into = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The idea that stays")
    reason = cur.reason_field()


class IdeaStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Idea.Status.choices)
    note = serializers.CharField(min_length=3, max_length=5000, help_text="Shown on the idea's page (3 to 5,000 "
                                                                          "characters); voters are emailed it")


class IdeaFromGroupSerializer(serializers.Serializer):
    """A group of similar items made a community idea: what ``/api/insights/ideas/`` gives for each group."""

    title = serializers.CharField(min_length=10, max_length=200)
    description = serializers.CharField(min_length=20, max_length=20000, help_text="Markdown")
    product = serializers.CharField(max_length=100, required=False, default="", allow_blank=True)
    conversations = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
                                          max_length=200, required=False, default=list,
                                          help_text="linked as evidence")
    posts = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=200,
                                  required=False, default=list, help_text="public posts, linked as evidence")


def _evidence(request, data: dict) -> tuple[list[int], list[int]]:
    """The group's conversations and posts; one that does not exist (or a conversation the person may not
    see) is a 400 naming the field, not a link to nothing."""
    conversations = set(data["conversations"])
    seen = set(visible_conversations(Conversation.objects.filter(pk__in=conversations), request.user)
               .values_list("pk", flat=True))
    posts = set(data["posts"])
    found = set(Post.objects.filter(pk__in=posts).values_list("pk", flat=True))
    errors = {}
    if conversations - seen:
        errors["conversations"] = [f"No conversation #{min(conversations - seen)}."]
    if posts - found:
        errors["posts"] = [f"No post #{min(posts - found)}."]
    if errors:
        raise ValidationError(errors)
    return sorted(conversations), sorted(posts)


class IdeaViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IdeaSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]

    def get_queryset(self):
        if self.action == "list":
            return queries.idea_list(status=self.request.query_params.get("status", ""))
        return Idea.objects.select_related("author")

    @extend_schema(request=IdeaStatusSerializer, responses=IdeaSerializer)
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        if not can(request.user, "ideas.manage"):
            raise PermissionDenied(denied_message("ideas.manage"))
        data = cur.validated(IdeaStatusSerializer, request)
        idea = actions.set_idea_status(self.get_object(), status=data["status"], note=data["note"],
                                       actor=request.user)
        return Response(IdeaSerializer(idea).data)

    @extend_schema(request=IdeaFromGroupSerializer, responses={201: IdeaSerializer, **cur.ERRORS})
    @action(detail=False, methods=["post"], url_path="from-group")
    def from_group(self, request):
        """A new idea from a group of similar items (``/api/insights/ideas/``), posted as your staff member
        with the group's conversations and posts linked as its evidence. Product managers (``ideas.manage``)."""
        cur.require(request, "ideas.manage")
        data = cur.validated(IdeaFromGroupSerializer, request)
        conversations, posts = _evidence(request, data)
        idea = actions.idea_from_cluster(actor=request.user, title=data["title"], description=data["description"],
                                         product=data["product"], conversations=conversations, posts=posts)
        clusters.forget()
        return Response(IdeaSerializer(idea).data, status=201)

    @extend_schema(request=IdeaLinkSerializer, responses=IdeaSerializer)
    @action(detail=True, methods=["post"])
    def links(self, request, pk=None):
        data = IdeaLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        idea = self.get_object()
        actions.link_idea(idea, kind=data.validated_data["kind"], object_id=data.validated_data["object_id"],
                          actor=request.user)
        return Response(IdeaSerializer(idea).data)

    @extend_schema(request=None, responses={200: IdeaSerializer, **cur.ERRORS},
                   parameters=[OpenApiParameter("link_id", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["delete"], url_path=r"links/(?P<link_id>[0-9]{1,19})")
    def unlink(self, request, pk=None, link_id=None):
        """Take back a piece of evidence (a conversation or post that turned out not to ask for this idea)."""
        idea = self.get_object()
        link = IdeaLink.objects.filter(idea=idea, pk=as_int(link_id, minimum=1) or 0).first()
        if link is None:
            raise NotFound("This idea has no such link.")
        actions.unlink_idea(link, request.user)
        return Response(IdeaSerializer(idea).data)

    @extend_schema(request=IdeaMergeSerializer, responses={200: IdeaSerializer, **cur.ERRORS})
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """This idea is a duplicate of ``into``: its votes (a member's once) and evidence move there; the answer
        is the idea that stays. Product managers (``ideas.manage``) only."""
        cur.require(request, "ideas.manage")
        data = cur.validated(IdeaMergeSerializer, request)
        drop = self.get_object()
        keep = Idea.objects.filter(pk=data["into"]).first()
        if keep is None:
            raise ActionError(f"There is no idea #{data['into']}.", "into")
        return Response(IdeaSerializer(actions.merge_ideas(keep, drop, reason=data["reason"],
                                                           actor=request.user)).data)


class MemberViewSet(viewsets.ReadOnlyModelViewSet):
    """Members' public profiles; moderators handle their points, product managers their rights."""

    serializer_class = MemberSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]
    queryset = Member.objects.filter(is_deleted=False).prefetch_related("badges").order_by("-reputation", "pk")

    def _fresh(self, member: Member) -> dict:
        return MemberSerializer(self.get_queryset().get(pk=member.pk)).data

    @extend_schema(request=cur.ModeratorSerializer, responses={200: MemberSerializer, **cur.ERRORS})
    @action(detail=True, methods=["post"])
    def moderator(self, request, pk=None):
        """Make the member a moderator or take it back (``ideas.manage``)."""
        cur.require(request, "ideas.manage")
        data = cur.validated(cur.ModeratorSerializer, request)
        return Response(self._fresh(actions.set_moderator(self.get_object(), on=data["on"], actor=request.user)))

    @extend_schema(request=cur.RightsSerializer, responses={200: MemberSerializer, **cur.ERRORS})
    @action(detail=True, methods=["post"])
    def rights(self, request, pk=None):
        """Take back (or give back) the rights of the member's reputation level; the reason is logged."""
        data = cur.validated(cur.RightsSerializer, request)
        member = actions.set_privileges(self.get_object(), revoked=data["revoked"], reason=data["reason"],
                                        actor=request.user)
        return Response(self._fresh(member))

    @extend_schema(responses=cur.ReputationEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def reputation(self, request, pk=None):
        """The member's last 200 reputation events; reasons ending in ``_ring`` are votes from a vote ring,
        recorded with 0 points."""
        events = ReputationEvent.objects.filter(member=self.get_object())[:200]
        return Response(cur.ReputationEventSerializer(events, many=True).data)

    @extend_schema(request=cur.RevokeSerializer, responses={200: cur.ReputationEventSerializer, **cur.ERRORS},
                   parameters=[OpenApiParameter("event_id", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["post"], url_path=r"reputation/(?P<event_id>[0-9]{1,19})/revoke")
    def revoke_points(self, request, pk=None, event_id=None):
        """Take back the points of one event with a reason the member sees (logged); twice is a 409."""
        data = cur.validated(cur.RevokeSerializer, request)
        event = ReputationEvent.objects.filter(member=self.get_object(), pk=as_int(event_id, minimum=1) or 0).first()
        if event is None:
            raise NotFound("This member has no such reputation event.")
        event = actions.revoke_points(event, reason=data["reason"], actor=request.user)
        return Response(cur.ReputationEventSerializer(event).data)


class ModerationSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModerationAction
        fields = ["id", "action", "target_kind", "target_id", "target_title", "author", "actor", "reason",
                  "created_at"]


class ModerateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(actions.MODELS))
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="The post's id")
    action = serializers.ChoiceField(choices=list(actions.ACTIONS))
    reason = cur.reason_field()
    body = serializers.CharField(required=False, min_length=2, max_length=20000,
                                 help_text="The new text, for ``edit`` (2 to 20,000 characters)")


class ModerationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The audit log (GET) and a moderation action (POST: kind, id, action, reason[, body])."""

    serializer_class = ModerationSerializer
    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]
    queryset = ModerationAction.objects.all()

    @extend_schema(request=ModerateSerializer, responses={201: ModerationSerializer})
    def create(self, request):
        data = cur.validated(ModerateSerializer, request)
        entry = actions.moderate(data["kind"], data["id"], data["action"], reason=data["reason"],
                                 body=data.get("body", ""), actor=request.user)
        return Response(ModerationSerializer(entry).data, status=201)

    @extend_schema(responses=cur.HeldPostSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)  # at most 50 of each kind: one list, as documented
    def held(self, request):
        """New members' posts waiting for a moderator (up to 50 of each kind, oldest first); approve or remove
        them with a POST here."""
        return Response(cur.HeldPostSerializer(cur.held_posts(), many=True).data)



class ExpertSerializer(serializers.Serializer):
    member = MemberSerializer()
    points = serializers.IntegerField(help_text="Points from accepted and upvoted answers in the last 7 days")


class ExpertsView(APIView):
    """Experts of the week, as on the community start page: overall, in one tag, or in one product."""

    permission_classes = [IsAuthenticated, WritesNeed.of("community.moderate")]

    @extend_schema(parameters=[OpenApiParameter("tag", str), OpenApiParameter("product", str),
                               OpenApiParameter("n", {"type": "integer", "minimum": 1, "maximum": 20},
                                                description="How many (1 to 20, default 3)")],
                   responses=ExpertSerializer(many=True))
    def get(self, request):
        params = request.query_params
        n = as_int(params.get("n", 3), minimum=1, maximum=20)
        if n is None:
            raise ValidationError({"n": ["n must be a whole number from 1 to 20."]})
        found = queries.experts_of_week(tag=clean_text(params.get("tag"), 40).strip(),
                                        product=clean_text(params.get("product"), 100).strip(), n=n)
        return Response([{"member": MemberSerializer(m).data, "points": p} for m, p in found])
