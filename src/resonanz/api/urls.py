from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.routers import DefaultRouter

from resonanz.api import automation, community, knowledge, views
from resonanz.core.parsers import SafeJSONParser

router = DefaultRouter()
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("identities", views.IdentityViewSet, basename="identity")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("teams", views.TeamViewSet, basename="team")
router.register("agents", views.AgentViewSet, basename="agent")
router.register("channels", views.ChannelViewSet, basename="channel")
router.register("conversations", views.ConversationViewSet, basename="conversation")
router.register("messages", views.MessageViewSet, basename="message")
router.register("catalog", views.CatalogViewSet, basename="catalog")
router.register("rules", automation.RuleViewSet, basename="rule")
router.register("rule-runs", automation.RuleRunViewSet, basename="rule-run")
router.register("sla-policies", automation.SLAPolicyViewSet, basename="sla-policy")
router.register("calendars", automation.CalendarViewSet, basename="calendar")
router.register("pending-replies", automation.PendingReplyViewSet, basename="pending-reply")
router.register("articles", knowledge.ArticleViewSet, basename="article")
router.register("categories", knowledge.CategoryViewSet, basename="category")
router.register("community/questions", community.QuestionViewSet, basename="community-question")
router.register("community/ideas", community.IdeaViewSet, basename="community-idea")
router.register("community/members", community.MemberViewSet, basename="community-member")
router.register("community/moderation", community.ModerationViewSet, basename="community-moderation")

urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(parser_classes=[FormParser, MultiPartParser, SafeJSONParser]),
         name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("knowledge/search/", knowledge.KnowledgeSearchView.as_view(), name="knowledge-search"),
    path("conversations/<int:pk>/suggestions/", knowledge.ConversationSuggestionsView.as_view(),
         name="conversation-suggestions"),
    path("reply-check/", automation.ReplyCheckView.as_view(), name="reply-check"),
    path("", include(router.urls)),
]
