"""The reply window of channels that have one (WhatsApp's 24 hours) and the approved templates that are the only
way to write after it closed: what the conversation page shows, and the template reply it sends."""

from __future__ import annotations

import logging

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core.errors import ActionError
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation

log = logging.getLogger("resonanz.desk")


def window_context(conversation) -> dict | None:
    """None for channels without a window; else when it closes, whether it is open, and the templates."""
    driver = conversation.channel.driver
    if driver.reply_window is None:
        return None
    closes = driver.window_closes_at(conversation)
    templates, error = [], ""
    try:
        templates = driver.reply_templates()
    except Exception as exc:  # the platform is down or the token was revoked: say so, never a 500
        log.info("templates of %s not loaded: %s", conversation.channel, exc)
        error = str(exc)[:300] or exc.__class__.__name__
    return {"closes_at": closes, "open": driver.window_open(conversation), "now": timezone.now(),
            "hours": int(driver.reply_window.total_seconds() // 3600),
            "templates": [{"t": t, "params": range(1, t.params + 1)} for t in templates], "error": error}


@login_required
@require_POST
def template_reply(request, pk: int):
    """Send an approved template with the agent's parameters (allowed inside and outside the window)."""
    conversation = get_object_or_404(Conversation.objects.select_related("channel"), pk=pk)
    try:
        actions.send_template(conversation, request.user, request.POST.get("template", ""),
                              request.POST.getlist("param"))
        flash.success(request, _("Template sent."))
    except ActionError as exc:
        if getattr(exc, "pending", None) is not None:
            flash.info(request, _("Your reply waits for a supervisor's approval before it is sent."))
        elif exc.field == "params":
            flash.error(request, _("Fill in every placeholder of the template (at most %(n)s characters each).")
                        % {"n": actions.MAX_TEMPLATE_PARAM})
        elif exc.status == 503:
            flash.error(request, _("The templates could not be loaded: %(error)s")
                        % {"error": str(exc.__cause__ or exc)[:300]})
        elif exc.field == "template":
            flash.error(request, _("This template is not (or no longer) approved."))
        else:
            flash.error(request, exc.message)
    return redirect("inbox:conversation", pk=pk)
