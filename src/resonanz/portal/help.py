"""The public help center at /help: categories, articles, search and "was this helpful?".

No login. Only public, published articles are ever shown. The page language comes from the
URL (/help/de/…, /help/en/…) and is activated for the whole page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.http import require_POST

from resonanz.core.ratelimit import client_address, rate_limited
from resonanz.knowledge import actions
from resonanz.knowledge.bot import plain
from resonanz.knowledge.models import Article, Category
from resonanz.knowledge.rendering import render_markdown
from resonanz.knowledge.search import articles as ranking

LANGS = ("de", "en")
# "Was this helpful?" once per browser and article: the articles voted on live in a signed cookie (no session
# row per visitor); a vote is counted at once, and the ranking learns it in the worker (knowledge.actions).
VOTES_COOKIE = "help_votes"
VOTES_SALT = "resonanz.help.votes"
VOTES_KEPT = 500
MAX_SEARCH_RESULTS = 20


def public():
    return Article.objects.filter(status=Article.Status.PUBLISHED, visibility=Article.Visibility.PUBLIC)


def public_url(article: Article, query: str = "") -> str:
    url = reverse("help:article", kwargs={"lang": article.language, "pk": article.pk, "slug": article.slug})
    return f"{url}?{urlencode({'q': query})}" if query else url


def _render(request, lang: str, template: str, context: dict, status: int = 200):
    if lang not in LANGS:
        raise Http404
    other = "en" if lang == "de" else "de"
    context = {"lang": lang, "other_lang": other, "other_url": reverse("help:home", kwargs={"lang": other}),
               **context}
    with translation.override(lang):
        return render(request, template, context, status=status)


def _snippet(article: Article, limit: int = 180) -> str:
    text = " ".join(plain(article.body).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def root(request):
    """/help/ goes to the visitor's language: German or English, from the browser."""
    lang = translation.get_language_from_request(request)
    lang = (lang or "").split("-")[0]
    return redirect("help:home", lang=lang if lang in LANGS else "en")


def home(request, lang: str):
    live = list(public().filter(language=lang).select_related("category").order_by("title"))
    groups: dict[int | None, list[Article]] = {}
    for a in live:
        groups.setdefault(a.category_id, []).append(a)
    sections = [{"category": c, "label": c.label(lang), "articles": groups[c.pk]}
                for c in Category.objects.all() if c.pk in groups]
    return _render(request, lang, "help/home.html", {"sections": sections, "uncategorized": groups.get(None, [])})


def category(request, lang: str, slug: str):
    cat = get_object_or_404(Category, slug=slug)
    items = public().filter(language=lang, category=cat).order_by("title")
    return _render(request, lang, "help/category.html", {
        "category": cat, "label": cat.label(lang),
        "articles": [{"article": a, "snippet": _snippet(a)} for a in items],
    })


def article(request, lang: str, pk: int, slug: str):
    item = get_object_or_404(public().select_related("category"), pk=pk)
    query = (request.GET.get("q") or "").strip()[:500]
    if item.language != lang or item.slug != slug:
        return redirect(public_url(item, query))
    translated = public().filter(translation_group=item.translation_group).exclude(pk=item.pk).first() \
        if item.translation_group else None
    voted = item.pk in voted_on(request)
    return _render(request, lang, "help/article.html", {
        "article": item, "html": render_markdown(item.body), "translated": translated, "query": query,
        "voted": voted, "category": item.category,
        "category_label": item.category.label(lang) if item.category else "",
    })


@require_POST
@rate_limited("help_vote")
def feedback(request, lang: str, pk: int):
    item = get_object_or_404(public(), pk=pk)
    answer = request.POST.get("helpful")
    query = (request.POST.get("q") or "").strip()[:500]
    votes = voted_on(request)
    response = redirect(public_url(item, query) + "#feedback")
    if answer in ("yes", "no") and item.pk not in votes:
        actions.record_feedback(item, answer == "yes", query=query, source="help_center",
                                voter=actions.voter_of(client_address(request)))
        response.set_signed_cookie(VOTES_COOKIE, ",".join(map(str, (votes + [item.pk])[-VOTES_KEPT:])),
                                   salt=VOTES_SALT, max_age=365 * 86400, httponly=True, samesite="Lax",
                                   secure=settings.SESSION_COOKIE_SECURE, path="/help/")
    return response


def voted_on(request) -> list[int]:
    """The articles this browser voted on (a forged or broken cookie counts as none)."""
    raw = request.get_signed_cookie(VOTES_COOKIE, default="", salt=VOTES_SALT)
    return [int(v) for v in raw.split(",") if v.isascii() and v.isdigit()][-VOTES_KEPT:]


@rate_limited("help_search", methods=("GET", "HEAD"))
def search(request, lang: str):
    query = (request.GET.get("q") or "").strip()
    results = ranking().search(query, k=MAX_SEARCH_RESULTS, public_only=True, language=lang) if query else []
    elsewhere = []
    if query and not results:
        # Nothing in this language: the other language may have the answer.
        elsewhere = ranking().search(query, k=5, public_only=True)
    return _render(request, lang, "help/search.html", {
        "query": query,
        "results": [{"article": r.article, "snippet": _snippet(r.article), "url": public_url(r.article, query)}
                    for r in results],
        "elsewhere": [{"article": r.article, "url": public_url(r.article, query)} for r in elsewhere],
    })
