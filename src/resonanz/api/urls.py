from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from resonanz.api import automation, community, community_curation, insights, knowledge, macros, tokens, views
from resonanz.api.params import IdRouter
from resonanz.api.retention import RetentionRuleViewSet

router = IdRouter()
router.register("contacts", views.ContactViewSet, basename="contact")
router.register("identities", views.IdentityViewSet, basename="identity")
router.register("organizations", views.OrganizationViewSet, basename="organization")
router.register("teams", views.TeamViewSet, basename="team")
router.register("retention-rules", RetentionRuleViewSet, basename="retention-rule")
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
router.register("macros", macros.MacroViewSet, basename="macro")
router.register("views", macros.SavedViewSet, basename="saved-view")
router.register("listening-queries", insights.ListeningQueryViewSet, basename="listening-query")
router.register("alerts", insights.AlertViewSet, basename="alert")
router.register("goals", insights.GoalViewSet, basename="goal")
router.register("alert-channels", insights.AlertChannelViewSet, basename="alert-channel")
router.register("notifications", insights.NotificationViewSet, basename="notification")
router.register("articles", knowledge.ArticleViewSet, basename="article")
router.register("categories", knowledge.CategoryViewSet, basename="category")
router.register("tokens", tokens.ApiTokenViewSet, basename="api-token-personal")
router.register("audit-log", views.AuditLogViewSet, basename="audit-entry")
router.register("community/questions", community.QuestionViewSet, basename="community-question")
router.register("community/ideas", community.IdeaViewSet, basename="community-idea")
router.register("community/members", community.MemberViewSet, basename="community-member")
router.register("community/moderation", community.ModerationViewSet, basename="community-moderation")
router.register("community/tags", community_curation.TagViewSet, basename="community-tag")
router.register("community/reports", community_curation.ReportViewSet, basename="community-report")

urlpatterns = [
    path("auth/token/", tokens.TokenView.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view loads its start-up script as a file: no inline script, as everywhere. Swagger UI sets
    # inline styles, so this one page allows those (styles cannot run code).
    path("docs/", csp_update({"style-src": "'unsafe-inline'"})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
    path("knowledge/search/", knowledge.KnowledgeSearchView.as_view(), name="knowledge-search"),
    path("conversations/<id:pk>/suggestions/", knowledge.ConversationSuggestionsView.as_view(),
         name="conversation-suggestions"),
    path("attachments/<id:pk>/", views.AttachmentDownloadView.as_view(), name="attachment-download"),
    path("conversations/bulk/", macros.BulkView.as_view(), name="conversation-bulk"),
    path("conversations/<id:pk>/apply-macro/", macros.ApplyMacroView.as_view(), name="conversation-apply-macro"),
    path("insights/dashboard/", insights.DashboardView.as_view(), name="insights-dashboard"),
    path("insights/ideas/", insights.IdeasView.as_view(), name="insights-ideas"),
    path("insights/launch/", insights.LaunchView.as_view(), name="insights-launch"),
    path("reply-check/", automation.ReplyCheckView.as_view(), name="reply-check"),
    path("community/experts/", community.ExpertsView.as_view(), name="community-experts"),
    path("", include(router.urls)),
]
