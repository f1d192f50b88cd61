"""The project's URLs plus the knowledge API routes, whether or not api/urls.py lists them yet."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from resonanz.api import knowledge
from resonanz.urls import urlpatterns as project

router = SimpleRouter()
router.register("articles", knowledge.ArticleViewSet, basename="article")
router.register("categories", knowledge.CategoryViewSet, basename="category")

urlpatterns = [
    path("api/knowledge/search/", knowledge.KnowledgeSearchView.as_view(), name="knowledge-search"),
    path("api/conversations/<int:pk>/suggestions/", knowledge.ConversationSuggestionsView.as_view(),
         name="conversation-suggestions"),
    path("api/", include(router.urls)),
    *project,
]
