"""REST endpoints of the knowledge base: articles, categories, search and suggestions for a conversation.

Every agent reads; supervisors and administrators write. Writes go through the knowledge actions.
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.api.params import BOOLEAN_WORDS, choice_params, choice_query, id_params, id_query
from resonanz.api.serializers import TagListField
from resonanz.core.params import as_int
from resonanz.core.permissions import WritesNeed
from resonanz.inbox.models import Conversation, Message
from resonanz.inbox.queries import visible_conversations
from resonanz.knowledge import actions
from resonanz.knowledge.models import Article, ArticleVersion, Category, Suggestion
from resonanz.knowledge.rendering import render_markdown
from resonanz.knowledge.search import articles as ranking


def _help_url(request, article: Article) -> str | None:
    if article.status != Article.Status.PUBLISHED or article.visibility != Article.Visibility.PUBLIC:
        return None
    return request.build_absolute_uri(f"/help/{article.language}/{article.pk}-{article.slug}/") if request else None


EditorsWriteOthersRead = WritesNeed.of("knowledge.edit")


class CategorySerializer(serializers.ModelSerializer):
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    class Meta:
        model = Category
        fields = ["id", "name", "name_de", "slug", "description", "position"]
        read_only_fields = ["slug"]


class ArticleSerializer(serializers.ModelSerializer):
    tags = TagListField(required=False)
    example_questions = serializers.ListField(child=serializers.CharField(max_length=500), required=False,
                                              source="questions")
    translation_of = serializers.PrimaryKeyRelatedField(
        queryset=Article.objects.all(), required=False, allow_null=True, write_only=True,
        help_text="id of the same article in the other language")
    translations = serializers.SerializerMethodField()
    body_html = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    category = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Article
        fields = ["id", "title", "slug", "body", "body_html", "language", "category", "tags", "status", "visibility",
                  "example_questions", "translation_of", "translations", "source", "helpful_count",
                  "unhelpful_count", "url", "created_at", "updated_at", "published_at"]
        read_only_fields = ["slug", "source", "helpful_count", "unhelpful_count", "created_at", "updated_at",
                            "published_at"]

    def get_translations(self, obj) -> list[int]:
        return list(obj.translations().values_list("pk", flat=True))

    def get_body_html(self, obj) -> str:
        return render_markdown(obj.body)

    def get_url(self, obj) -> str | None:
        return _help_url(self.context.get("request"), obj)


class FeedbackSerializer(serializers.Serializer):
    helpful = serializers.BooleanField()
    query = serializers.CharField(max_length=500, required=False, allow_blank=True)


class RestoreSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class VersionSerializer(serializers.ModelSerializer):
    editor = serializers.CharField(source="editor.username", default=None, read_only=True)

    class Meta:
        model = ArticleVersion
        fields = ["number", "title", "body", "status", "editor", "note", "created_at"]


ARTICLE_CHOICES = {"status": Article.Status.values, "language": Article.Language.values,
                   "visibility": Article.Visibility.values}
ARTICLE_FILTERS = [
    *(choice_query(name, values) for name, values in ARTICLE_CHOICES.items()),
    id_query("category"),
    OpenApiParameter("source", str, description="editor, import or proposed"),
]


class ArticleViewSet(viewsets.ModelViewSet):
    """Articles of the knowledge base. DELETE archives an article (nothing is lost)."""

    serializer_class = ArticleSerializer
    permission_classes = [EditorsWriteOthersRead]

    def get_queryset(self):
        qs = Article.objects.select_related("category").prefetch_related("tags").order_by("-updated_at")
        params = self.request.query_params
        if self.action == "list":
            choice_params(params, **ARTICLE_CHOICES)
        for name in ARTICLE_CHOICES:
            if params.get(name):
                qs = qs.filter(**{name: params[name]})
        for value in id_params(params, "category").values():
            qs = qs.filter(category_id=value)
        if params.get("source"):
            qs = qs.filter(source=params["source"])
        return qs

    @extend_schema(parameters=ARTICLE_FILTERS)
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @staticmethod
    def _values(data: dict) -> tuple[dict, list[str] | None, Article | None, bool]:
        data = dict(data)
        tags = data.pop("tags", None)
        has_translation = "translation_of" in data
        other = data.pop("translation_of", None)
        if "questions" in data:
            data["example_questions"] = "\n".join(q.strip() for q in data.pop("questions") if q.strip())
        return data, tags, other, has_translation

    def perform_create(self, serializer):
        values, tags, other, _ = self._values(serializer.validated_data)
        serializer.instance = actions.create_article(self.request.user, tags=tags, translation_of=other, **values)

    def perform_update(self, serializer):
        values, tags, other, has_translation = self._values(serializer.validated_data)
        article = actions.update_article(serializer.instance, self.request.user, tags=tags, **values)
        if has_translation:
            current = article.translations().order_by("pk").first()
            if other is None:
                actions.unlink_translation(article)
            elif current is None or current.pk != other.pk:
                actions.unlink_translation(article)
                actions.link_translation(article, other)
        serializer.instance = Article.objects.get(pk=article.pk)

    def perform_destroy(self, instance):
        actions.set_status(instance, self.request.user, Article.Status.ARCHIVED)

    @extend_schema(request=FeedbackSerializer, responses=inline_serializer("FeedbackResult", {
        "helpful_count": serializers.IntegerField(), "unhelpful_count": serializers.IntegerField()}))
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def feedback(self, request, pk=None):
        """Helpful or not: counts, and with a query the ranking learns from it."""
        article = self.get_object()
        body = FeedbackSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actions.record_feedback(article, body.validated_data["helpful"], query=body.validated_data.get("query", ""),
                                source="api", agent=request.user)
        article.refresh_from_db(fields=["helpful_count", "unhelpful_count"])
        return Response({"helpful_count": article.helpful_count, "unhelpful_count": article.unhelpful_count})

    @extend_schema(responses=VersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        article = self.get_object()
        page = self.paginate_queryset(article.versions.select_related("editor"))
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    @extend_schema(request=RestoreSerializer, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, pk=None):
        article = self.get_object()
        body = RestoreSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = get_object_or_404(ArticleVersion, article=article, number=body.validated_data["version"])
        article = actions.restore_version(article, version, request.user)
        return Response(ArticleSerializer(article, context={"request": request}).data)


class CategoryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                      mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = CategorySerializer
    permission_classes = [EditorsWriteOthersRead]
    queryset = Category.objects.all()

    def perform_create(self, serializer):
        d = serializer.validated_data
        category = actions.create_category(d["name"], name_de=d.get("name_de", ""),
                                           description=d.get("description", ""))
        if "position" in d:
            category = actions.update_category(category, name=category.name, name_de=category.name_de,
                                               description=category.description, position=d["position"])
        serializer.instance = category

    def perform_update(self, serializer):
        c, d = serializer.instance, serializer.validated_data
        serializer.instance = actions.update_category(
            c, name=d.get("name", c.name), name_de=d.get("name_de", c.name_de),
            description=d.get("description", c.description), position=d.get("position"))


SEARCH_RESULT = inline_serializer("SearchResult", {
    "id": serializers.IntegerField(), "title": serializers.CharField(), "score": serializers.FloatField(),
    "language": serializers.CharField(), "url": serializers.CharField(allow_null=True)}, many=True)


MAX_RESULTS = 50


class KnowledgeSearchView(APIView):
    """The one ranking of the knowledge base: best published articles first."""

    @extend_schema(parameters=[
        OpenApiParameter("q", str, required=True), choice_query("language", Article.Language.values),
        OpenApiParameter("public", bool, description="only articles of the public help center"),
        OpenApiParameter("k", {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS},
                         description=f"how many results (1–{MAX_RESULTS}, default 10)"),
    ], responses=SEARCH_RESULT)
    def get(self, request):
        params = request.query_params
        if "q" not in params:
            raise ValidationError({"q": ["Give the words to search for."]})
        choice_params(params, language=Article.Language.values, public=BOOLEAN_WORDS)
        k = as_int(params.get("k", 10), minimum=1, maximum=MAX_RESULTS)
        if k is None:
            raise ValidationError({"k": [f"k must be a whole number from 1 to {MAX_RESULTS}."]})
        results = ranking().search(params.get("q", ""), k=k, public_only=params.get("public") in ("true", "1"),
                                   language=params.get("language") or None)
        return Response([{"id": r.article.pk, "title": r.article.title, "score": round(r.score, 4),
                          "language": r.article.language, "url": _help_url(request, r.article)} for r in results])


class ConversationSuggestionsView(APIView):
    """What the worker found for the conversation's latest customer message: articles, replies, the bot's verdict."""

    @extend_schema(responses=inline_serializer("Suggestions", {
        "message": serializers.IntegerField(),
        "articles": serializers.ListField(child=serializers.DictField()),
        "replies": serializers.ListField(child=serializers.DictField()),
        "bot_decision": serializers.CharField(), "confidence": serializers.FloatField(allow_null=True),
        "answer_article": serializers.IntegerField(allow_null=True), "created_at": serializers.DateTimeField()}))
    def get(self, request, pk: int):
        conversation = get_object_or_404(visible_conversations(Conversation.objects.all(), request.user), pk=pk)
        latest = (Message.objects.filter(conversation=conversation, direction=Message.Direction.INBOUND)
                  .order_by("-created_at", "-id").first())
        suggestion = Suggestion.objects.filter(message=latest).first() if latest else None
        if suggestion is None:
            return Response({"detail": "No suggestions for this conversation yet."},
                            status=status.HTTP_404_NOT_FOUND)
        by_id = Article.objects.in_bulk([a["id"] for a in suggestion.articles])
        found = [{"id": a["id"], "title": by_id[a["id"]].title, "score": a.get("score"),
                  "language": by_id[a["id"]].language, "url": _help_url(request, by_id[a["id"]])}
                 for a in suggestion.articles if a["id"] in by_id and by_id[a["id"]].is_live]
        texts = dict(Message.objects.filter(pk__in=[r["message_id"] for r in suggestion.replies])
                     .values_list("pk", "text"))
        replies = [{"message_id": r["message_id"], "conversation_id": r.get("conversation_id"),
                    "score": r.get("score"), "text": texts[r["message_id"]]}
                   for r in suggestion.replies if r["message_id"] in texts]
        return Response({"message": latest.pk, "articles": found, "replies": replies,
                         "bot_decision": suggestion.bot_decision, "confidence": suggestion.answer_confidence,
                         "answer_article": suggestion.answer_article_id, "created_at": suggestion.created_at})
