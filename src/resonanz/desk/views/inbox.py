"""The agent UI: inbox, conversation view, and the live-update feed both poll."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.db.models.fields.json import KT
from django.http import HttpRequest, HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.http import urlencode
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.core.params import as_int
from resonanz.core.permissions import can, team_restricted
from resonanz.crm.models import Tag
from resonanz.desk.forms.inbox import ConversationForm, NoteForm, ProfileForm, ReplyForm
from resonanz.desk.views.paging import WalkPage
from resonanz.desk.views.reply_window import window_context
from resonanz.inbox import actions, firstrun, typing
from resonanz.inbox import files as reply_files
from resonanz.inbox.models import AgentProfile, Attachment, Conversation, ConversationEvent, Message, Team
from resonanz.inbox.queries import (
    count_or_none,
    filter_conversations,
    filtered_count,
    status_counts,
    visible_conversations,
    visible_messages,
)
from resonanz.inbox.search import Search
from resonanz.knowledge.actions import record_feedback
from resonanz.knowledge.bot import fit_to_channel
from resonanz.knowledge.models import Article, Suggestion
from resonanz.understanding.actions import correct
from resonanz.understanding.filters import with_latest_analysis
from resonanz.understanding.models import INTENTS, SENTIMENTS

PAGE_SIZE = 50
POST_HINT_CHARS = 70  # the post's first words in the inbox list; CSS cuts it further on a narrow screen
# Events that only tell an open page to refresh; the history list would drown in them.
QUIET_EVENTS = ("suggested",)
# Raster images only: SVG can carry script, so it is always a download.
INLINE_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _conversations(request):
    """Conversations this user may see (team-restricted agents: their teams' and their own)."""
    return visible_conversations(Conversation.objects.all(), request.user)


def _inbox_context(request) -> dict:
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = "active"
    base = _conversations(request).select_related("contact", "channel", "team", "assignee__agent")
    q = (params.get("q") or "").strip()
    search = Search(q) if q else None
    if search is None or search.few:
        scoped = filter_conversations(base, {k: v for k, v in params.items() if k != "status"}, request.user)
        conversations = filter_conversations(base, params, request.user)
        # Page through ids first (the sort uses an index), then load and annotate only the 50 shown:
        # annotating before the LIMIT made SQLite compute the latest analysis for every open conversation.
        page = Paginator(conversations.values_list("pk", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
        counts = status_counts(scoped)
        counts["active"] = counts["new"] + counts["open"] + counts["pending"]
    else:  # words found in most conversations: walk the inbox in its order; too many matches to count
        page = WalkPage.of(search, filter_conversations(base, {k: v for k, v in params.items() if k != "q"},
                                                        request.user), request.GET.get("page"))
        counts = dict.fromkeys([*Conversation.Status.values, "active"])
    ids = list(page.object_list)
    rows = {c.pk: c for c in with_latest_analysis(base.filter(pk__in=ids)).prefetch_related("contact__identities")}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    hints = post_hints(page.object_list)
    for shown in page.object_list:
        shown.post_hint = hints.get(shown.pk, "")
    unfiltered = {k: v for k, v in params.items() if k not in ("status", "filtered", "q")}
    counts["filtered"] = filtered_count(filter_conversations(base, {**unfiltered, "filtered": "all"}, request.user))
    last_event = ConversationEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    query = params.copy()
    query.pop("page", None)
    views = []
    for view in actions.views_for(request.user)[:30]:
        shown = {k: v for k, v in view.params.items() if k != "page"}
        views.append({"view": view, "query": urlencode(shown),
                      "count": count_or_none(base, shown, request.user),
                      "current": shown == {k: v for k, v in request.GET.items() if k not in ("page", "partial") and v}})
    guide = None
    if (not request.GET.get("partial") and not request.session.get("start_hidden")
            and can(request.user, "settings.manage")):
        guide = firstrun.progress()
        guide = None if guide["complete"] else guide
    return {
        "getting_started": guide,
        "views": views, "can_share": actions._can_keep_shared(request.user),
        "can_bulk": can(request.user, "conversations.bulk"),
        "page": page, "counts": counts, "params": params, "last_event": last_event,
        "querystring": query.urlencode(),
        "filtered": any(params.get(k) for k in ("assignee", "team", "channel", "tag", "sentiment", "intent",
                                                 "waiting", "contact", "priority")),
        "teams": Team.objects.filter(is_active=True), "channels": Channel.objects.all(),
        "agents": AgentProfile.objects.filter(is_bot=False, user__is_active=True).order_by("display_name"),
        "tags": Tag.objects.filter(conversations__isnull=False).distinct()[:100],
        "statuses": Conversation.Status.choices, "intents": INTENTS, "sentiments": SENTIMENTS,
    }


@login_required
@require_GET
def inbox(request):
    context = _inbox_context(request)
    template = "inbox/_list.html" if request.GET.get("partial") else "inbox/inbox.html"
    return render(request, template, context)


@login_required
def conversation(request, pk: int):
    conversation = get_object_or_404(
        _conversations(request).select_related("contact", "channel", "team", "assignee__agent"), pk=pk
    )
    thread = (Message.objects.filter(conversation=conversation)
              .select_related("author_user__agent", "author_contact", "analysis").prefetch_related("attachments"))
    if request.GET.get("after"):
        after = as_int(request.GET["after"]) or 0
        return render(request, "inbox/_messages.html", {"thread": thread.filter(id__gt=after),
                                                        "conversation": conversation, "intents": INTENTS,
                                                        "sentiments": SENTIMENTS})
    contact = conversation.contact
    history = (_conversations(request).filter(contact=contact).exclude(pk=pk)
               .select_related("channel").order_by("-last_activity_at")[:50])
    form = ConversationForm(initial={
        "status": conversation.status, "priority": conversation.priority, "team": conversation.team,
        "assignee": conversation.assignee, "tags": ", ".join(conversation.tags.values_list("name", flat=True)),
    })
    thread = list(thread)
    suggestions = _suggestions(conversation, thread)
    return render(request, "inbox/conversation.html", {
        "about": post_context(conversation, thread),
        "suggestions": suggestions, "reply_media": reply_media(conversation.channel.driver),
        "window": window_context(conversation), "macros": actions.macros_for(request.user),
        "draft": _draft(request, pk), "file_limits": reply_files.limits(),
        "conversation": conversation, "thread": thread, "contact": contact, "history": history,
        "identities": contact.identities.all(), "form": form, "reply_form": ReplyForm(), "note_form": NoteForm(),
        "events": conversation.events.exclude(kind__in=QUIET_EVENTS).select_related("actor__agent").order_by("-id")[:50],
        "last_message": thread[-1].id if thread else 0, "intents": INTENTS, "sentiments": SENTIMENTS,
        "last_event": ConversationEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0,
    })


def post_context(conversation, thread) -> dict | None:
    """The post a public conversation is about (the page's post under which the person commented, the first
    post of a reply chain), as the driver kept it with the latest message that names one; None for private
    conversations and public ones about no one thread (stored before threads: each comment shows its own post).
    Older comments kept only ``post_text``/``post_link``: those are shown the same way."""
    if not conversation.is_public or not conversation.thread_key:
        return None
    for message in reversed(thread):
        meta = message.meta or {}
        found = meta.get("post") if isinstance(meta.get("post"), dict) else None
        legacy = meta.get("meta") if isinstance(meta.get("meta"), dict) else {}
        if found is None and legacy.get("kind") == "comment" and (legacy.get("post_text") or legacy.get("post_link")):
            link = str(legacy.get("post_link") or "")
            found = {"text": str(legacy.get("post_text") or ""),
                     "link": link if link.startswith(("https://", "http://")) else ""}
        if found:
            return found
    return None


def post_hints(conversations) -> dict[int, str]:
    """The first words of the post each public conversation in the list is about (from its latest message that
    names one, as on the conversation page), whitespace folded and cut short: a hint, the page shows the post.
    One query for the whole page."""
    ids = [c.pk for c in conversations if c.is_public and c.thread_key]
    if not ids:
        return {}
    rows = (Message.objects.filter(Q(meta__has_key="post") | Q(meta__meta__has_key="post_text"),
                                   conversation_id__in=ids, direction=Message.Direction.INBOUND)
            .annotate(post_text=KT("meta__post__text"), legacy_text=KT("meta__meta__post_text"))
            .order_by("-id").values_list("conversation_id", "post_text", "legacy_text")[:1000])
    hints: dict[int, str] = {}
    for conversation_id, text, legacy in rows:
        words = " ".join(str(text or legacy or "").split())
        if words and conversation_id not in hints:
            hints[conversation_id] = Truncator(words).chars(POST_HINT_CHARS)
    return hints


def reply_media(driver) -> dict | None:
    """What images and documents the reply form offers on a social channel (its own upload flow), with the platform's limits (None: no files)."""
    media = driver.reply_media
    if not (driver.sends_images or media):
        return None
    mb = {kind: limit // (1024 * 1024) for kind, (limit, _types) in media.items()}
    return {"images": driver.sends_images or "image" in media, "documents": "document" in media,
            "alt": driver.describes_images, "image_mb": mb.get("image", 8), "document_mb": mb.get("document")}


def _suggestions(conversation, thread) -> dict | None:
    """What the worker found for the latest customer message: articles and earlier replies, fitted to the channel."""
    latest = next((m for m in reversed(thread) if m.direction == Message.Direction.INBOUND), None)
    if latest is None:
        return None
    suggestion = Suggestion.objects.filter(message=latest).first()
    if suggestion is None:
        return {"pending": True}
    by_id = Article.objects.in_bulk([a["id"] for a in suggestion.articles])
    articles = [{"article": by_id[a["id"]], "text": fit_to_channel(by_id[a["id"]], conversation.channel)}
                for a in suggestion.articles if a["id"] in by_id and by_id[a["id"]].is_live]
    reply_ids = [r["message_id"] for r in suggestion.replies]
    texts = dict(Message.objects.filter(pk__in=reply_ids).values_list("pk", "text"))
    replies = [{"text": texts[r["message_id"]], "conversation_id": r["conversation_id"]}
               for r in suggestion.replies if r["message_id"] in texts]
    return {"message": latest, "articles": articles, "replies": replies, "decision": suggestion.bot_decision,
            "confidence": suggestion.answer_confidence}


@login_required
@require_POST
def suggestion_feedback(request, pk: int):
    """An agent used or dismissed a suggested article: it moves the article up or down for similar questions."""
    message = get_object_or_404(visible_messages(Message.objects.all(), request.user), pk=pk,
                                direction=Message.Direction.INBOUND)
    article = get_object_or_404(Article, pk=as_int(request.POST.get("article"), minimum=1) or 0)
    used = request.POST.get("action") == "used"
    record_feedback(article, used, query=message.text[:500], agent=request.user,
                    source="suggestion_used" if used else "suggestion_dismissed")
    if request.headers.get("Accept") == "application/json":
        return JsonResponse({"ok": True})
    return redirect("inbox:conversation", pk=message.conversation_id)


def _draft(request: HttpRequest, pk: int) -> str:
    """A kept draft goes to the page the agent opens, not to the page's own live refresh: a refresh that ran
    between the refused send and the redirect would otherwise take the draft and show it nowhere."""
    if request.headers.get("X-Resonanz-Live") == "1":
        return ""
    return request.session.pop(f"draft-{pk}", "")


@login_required
@require_POST
def reply(request, pk: int):
    conversation = get_object_or_404(_conversations(request), pk=pk)
    form = ReplyForm(request.POST, request.FILES, alt_required=conversation.channel.driver.describes_images)
    seen = as_int(request.POST.get("seen"))
    crossed = actions.replies_since(conversation, seen, request.user) if seen is not None and form.is_valid() else []
    if crossed and request.POST.get("send_anyway") != "1":
        # a colleague answered while this agent was writing: keep the draft and let them read it first
        last = crossed[-1]
        request.session[f"draft-{pk}"] = form.cleaned_data["text"]
        flash.warning(request, _("%(name)s replied at %(time)s while you were writing. Read their reply, then "
                                 "send yours again if it still fits.") % {
            "name": last.author_user.agent.display_name if last.author_user and hasattr(last.author_user, "agent")
            else "Resonanz", "time": formats.time_format(timezone.localtime(last.sent_at), "TIME_FORMAT")})
        return redirect("inbox:conversation", pk=pk)
    if form.is_valid():
        try:
            sent = actions.send_reply(conversation, request.user, form.cleaned_data["text"],
                                      status=form.cleaned_data["status"] or None,
                                      is_public=False if form.cleaned_data["private"] else None,
                                      images=form.images(), files=form.attached_files())
            if sent.conversation_id != conversation.pk:  # a private reply to a comment: the direct messages
                flash.success(request, _("Sent privately. The direct messages with this customer continue in "
                                         "%(reference)s.") % {"reference": f"RZ-{sent.conversation_id}"})
            else:
                flash.success(request, _("Reply sent."))
        except ActionError as exc:
            if getattr(exc, "pending", None) is not None:  # held for a supervisor's approval: not an error
                flash.info(request, _("Your reply waits for a supervisor's approval before it is sent."))
            else:
                request.session[f"draft-{pk}"] = form.cleaned_data["text"]  # the agent's words are kept
                flash.error(request, exc.message)
    else:
        problems = [str(e) for field, errors in form.errors.items() if field != "text" for e in errors]
        if (request.POST.get("text") or "").strip():
            request.session[f"draft-{pk}"] = request.POST["text"][:100_000]
        flash.error(request, " ".join(problems) if problems else _("The reply is empty."))
    return redirect("inbox:conversation", pk=pk)


@login_required
@require_POST
def moderate_comment(request, pk: int):
    """Hide, show again or delete a customer's public comment on the platform, from the conversation."""
    message = get_object_or_404(visible_messages(Message.objects.select_related("channel", "conversation"),
                                                 request.user), pk=pk, direction=Message.Direction.INBOUND)
    action = request.POST.get("action", "")
    try:
        actions.moderate_comment(message, request.user, action)
        flash.success(request, {"hide": _("The comment is hidden on the platform."),
                                "unhide": _("The comment is shown again on the platform."),
                                "delete": _("The comment is deleted on the platform.")}[action])
    except ActionError as exc:
        flash.error(request, exc.message)
    return redirect(f"{reverse('inbox:conversation', args=[message.conversation_id])}#m{message.pk}")


@login_required
@require_POST
def note(request, pk: int):
    conversation = get_object_or_404(_conversations(request), pk=pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        actions.add_note(conversation, request.user, form.cleaned_data["text"])
        flash.success(request, _("Note added."))
    else:
        flash.error(request, _("The note is empty."))
    return redirect("inbox:conversation", pk=pk)


@login_required
@require_POST
def update(request, pk: int):
    conversation = get_object_or_404(_conversations(request), pk=pk)
    form = ConversationForm(request.POST)
    if not form.is_valid():
        flash.error(request, _("Please correct the fields: %s") % ", ".join(form.errors))
        return redirect("inbox:conversation", pk=pk)
    d = form.cleaned_data
    tags = [t.strip() for t in d["tags"].split(",") if t.strip()]
    try:
        actions.update_conversation(conversation, request.user, status=d["status"], priority=d["priority"],
                                    team=d["team"], assignee=d["assignee"], tags=tags)
        flash.success(request, _("Conversation updated."))
    except ActionError as exc:
        flash.error(request, exc.message)
    return redirect("inbox:conversation", pk=pk)


@login_required
@require_POST
def correct_analysis(request, pk: int):
    """An agent fixes sentiment, intents or language of a customer message."""
    message = get_object_or_404(visible_messages(Message.objects.all(), request.user), pk=pk)
    try:
        correct(message, request.user, sentiment=request.POST.get("sentiment") or None,
                intents=request.POST.getlist("intents"), language=request.POST.get("language") or None)
        flash.success(request, _("Thanks: the correction is saved and teaches the next model version."))
    except ActionError as exc:
        flash.error(request, exc.message)
    return redirect(f"{reverse('inbox:conversation', args=[message.conversation_id])}#m{message.pk}")


@login_required
@require_POST
def set_filtered(request, pk: int):
    """Release a conversation from the filtered view into the inbox, or filter it by hand."""
    conversation = get_object_or_404(Conversation, pk=pk)
    into = request.POST.get("to") == "filtered"
    try:
        actions.set_filtered(conversation, request.user, "manual" if into else "",
                             reason=_("filtered by an agent") if into else _("released by an agent"))
    except ActionError as exc:
        flash.error(request, exc.message)
        return redirect("inbox:conversation", pk=pk)
    flash.success(request, _("Moved into the filtered view.") if into else _("Moved into the inbox."))
    return redirect("inbox:conversation", pk=pk)


@login_required
@require_POST
def take(request, pk: int):
    conversation = get_object_or_404(_conversations(request), pk=pk)
    actions.assign(conversation, request.user, request.user, reason="taken by the agent")
    return redirect("inbox:conversation", pk=pk)


@login_required
@require_GET
def updates(request):
    """What changed since an event id: the inbox and conversation pages poll this every second.

    Polling the event log works across processes (web, worker) and databases without an extra
    server; see docs/ARCHITECTURE.md for why this beats an in-memory channel layer here.
    """
    after = as_int(request.GET.get("after") or "0")
    if after is None:
        return HttpResponseBadRequest("after must be an event id")
    events = ConversationEvent.objects.filter(id__gt=after)
    if team_restricted(request.user):
        events = events.filter(conversation__in=_conversations(request).values("pk"))
    rows = list(events.order_by("id").values_list("id", "conversation_id")[:500])
    return JsonResponse({
        "last": rows[-1][0] if rows else after,
        "conversations": sorted({c for _, c in rows}),
    })


@login_required
def profile(request):
    agent = actions.ensure_agent_profile(request.user)
    form = ProfileForm(request.POST or None, instance=agent)
    if request.method == "POST" and form.is_valid():
        actions.update_agent(agent, **{k: form.cleaned_data[k] for k in form.fields})
        if agent.language:
            translation.activate(agent.language)  # the confirmation already speaks the language just chosen
        flash.success(request, _("Profile saved."))
        return redirect("inbox:profile")
    return render(request, "inbox/profile.html", {"form": form})


@login_required
def attachment(request, pk: int):
    """Attachments only for signed-in agents, and always as a download so no HTML runs in our origin."""
    from django.http import FileResponse, Http404

    item = get_object_or_404(Attachment, pk=pk, message__in=visible_messages(Message.objects.all(), request.user))
    if not item.file:
        raise Http404("the attachment's content was not stored")
    inline = request.GET.get("inline") == "1" and item.content_type in INLINE_IMAGE_TYPES
    response = FileResponse(item.file.open("rb"), as_attachment=not inline, filename=item.filename,
                            content_type=item.content_type if inline else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def presence(request, pk: int):
    """The open conversation page reports every few seconds; it answers who else has it open or is writing."""
    conversation = get_object_or_404(Conversation, pk=pk)
    others = actions.mark_viewing(conversation, request.user, typing=request.POST.get("typing") == "1")
    customer = typing.typing(conversation.pk, "customer")  # the visitor typing in the chat widget
    return JsonResponse({"others": others, "customer": customer})
