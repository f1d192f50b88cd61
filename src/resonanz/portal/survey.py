"""The public satisfaction survey: ``/survey/<token>/``, one click on a rating (1–5), then
"how likely would you recommend us?" (0–10, for the NPS) and an optional comment.

The secret token in the link is the only key; a wrong token is a plain 404. The link in the email carries
``?rating=N`` and preselects that rating, but only a click on the page (a POST) records it, so a mail
scanner following links never answers for the customer. The page speaks the customer's language
(German unless their profile says English).
"""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from resonanz.core.errors import ActionError
from resonanz.core.ratelimit import rate_limited
from resonanz.insights.actions import answer_recommend, answer_survey
from resonanz.insights.models import Survey

RATINGS = (5, 4, 3, 2, 1)


@require_http_methods(["GET", "POST"])
@rate_limited("survey", methods=None)
def survey(request, token: str):
    item = get_object_or_404(Survey.objects.select_related("conversation__contact"), token=token[:64])
    language = item.conversation.contact.preferred_language
    with translation.override(language if language in ("de", "en") else "de"):
        error = None
        if request.method == "POST":
            try:
                if "recommend" in request.POST:
                    item = answer_recommend(item, request.POST.get("recommend"))
                else:
                    item = answer_survey(item, rating=request.POST.get("rating"),
                                         comment=request.POST.get("comment", ""))
            except ActionError as exc:
                error = exc.message
        chosen = request.GET.get("rating", "")
        response = render(request, "portal/survey.html", {
            "survey": item, "ratings": RATINGS, "error": error, "scale": range(11),
            "preselected": int(chosen) if chosen.isdigit() and int(chosen) in RATINGS else None,
            "LANGUAGE_CODE": translation.get_language(),
        }, status=400 if error and item.answered_at is None else 200)
    return response
