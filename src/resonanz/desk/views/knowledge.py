"""The knowledge base in the agent UI: every agent reads; supervisors and administrators edit."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core import audit
from resonanz.core.errors import ActionError
from resonanz.core.params import is_id
from resonanz.core.permissions import can, permission_required
from resonanz.desk.forms.knowledge import ArticleForm, CategoryForm, ImportForm
from resonanz.knowledge import actions, transfer
from resonanz.knowledge.models import Article, ArticleVersion, Category
from resonanz.knowledge.rendering import render_markdown
from resonanz.knowledge.search import articles as ranking

PAGE_SIZE = 50


def can_edit(user) -> bool:
    return can(user, "knowledge.edit")


editor_required = permission_required("knowledge.edit")


def _filters(request) -> dict:
    get = request.GET
    return {
        "q": (get.get("q") or "").strip(),
        "status": get.get("status") if get.get("status") in Article.Status.values else "",
        "language": get.get("language") if get.get("language") in Article.Language.values else "",
        "category": get.get("category") if is_id(get.get("category")) else "",
        "visibility": get.get("visibility") if get.get("visibility") in Article.Visibility.values else "",
        "proposed": get.get("proposed") == "1",
    }


def _filter_queryset(qs, f: dict):
    if f["status"]:
        qs = qs.filter(status=f["status"])
    if f["language"]:
        qs = qs.filter(language=f["language"])
    if f["category"]:
        qs = qs.filter(category_id=int(f["category"]))
    if f["visibility"]:
        qs = qs.filter(visibility=f["visibility"])
    if f["proposed"]:
        qs = qs.filter(source="proposed")
    return qs


@login_required
def article_list(request):
    f = _filters(request)
    base = Article.objects.select_related("category", "updated_by__agent")
    ranked, page = None, None
    if f["q"] and f["status"] in ("", Article.Status.PUBLISHED):
        # The one ranking used everywhere, over published articles; other filters narrow it down.
        results = ranking().search(f["q"], k=PAGE_SIZE, language=f["language"] or None)
        allowed = set(_filter_queryset(Article.objects.filter(pk__in=[r.article.pk for r in results]), f)
                      .values_list("pk", flat=True))
        by_id = base.in_bulk(allowed)
        ranked = [{"article": by_id[r.article.pk], "score": r.score} for r in results if r.article.pk in by_id]
        if not f["status"]:
            # Drafts and archived articles are not in the ranking; plain text matching finds them.
            others = _filter_queryset(base.exclude(status=Article.Status.PUBLISHED), f).filter(
                Q(title__icontains=f["q"]) | Q(body__icontains=f["q"]))[:PAGE_SIZE]
            ranked += [{"article": a, "score": None} for a in others]
    else:
        qs = _filter_queryset(base, f)
        if f["q"]:
            qs = qs.filter(Q(title__icontains=f["q"]) | Q(body__icontains=f["q"])
                           | Q(example_questions__icontains=f["q"]))
        page = Paginator(qs.order_by("-updated_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    counts = dict(Article.objects.order_by().values_list("status").annotate(n=Count("id")))
    return render(request, "knowledge/list.html", {
        "f": f, "ranked": ranked, "page": page, "querystring": query.urlencode(),
        "categories": Category.objects.all(), "statuses": Article.Status.choices,
        "languages": Article.Language.choices, "visibilities": Article.Visibility.choices,
        "status_counts": [(v, label, counts.get(v, 0)) for v, label in Article.Status.choices],
        "proposed_count": Article.objects.filter(source="proposed", status="draft").count(),
        "can_edit": can_edit(request.user),
    })


@login_required
def article_detail(request, pk: int):
    article = get_object_or_404(Article.objects.select_related("category", "created_by__agent",
                                                               "updated_by__agent"), pk=pk)
    return render(request, "knowledge/detail.html", {
        "article": article, "html": render_markdown(article.body), "translations": article.translations(),
        "tags": article.tags.all(), "versions": article.versions.select_related("editor__agent")[:5],
        "feedback": article.feedback.select_related("agent__agent")[:10], "can_edit": can_edit(request.user),
        "statuses": Article.Status.choices,
    })


def _save(request, form: ArticleForm, article: Article | None) -> Article:
    d = form.cleaned_data
    values = {k: d[k] for k in ("title", "body", "language", "category", "status", "visibility",
                                "example_questions")}
    values["body"] = values["body"].replace("\r\n", "\n")
    values["example_questions"] = values["example_questions"].replace("\r\n", "\n").strip()
    other = d.get("translation_of")
    if article is None:
        return actions.create_article(request.user, tags=form.tag_list(), translation_of=other,
                                      note=d.get("note") or "created", **values)
    article = actions.update_article(article, request.user, tags=form.tag_list(), note=d.get("note") or "",
                                     **values)
    current = article.translations().order_by("pk").first()
    if other is None and current is not None:
        actions.unlink_translation(article)
    elif other is not None and (current is None or current.pk != other.pk):
        actions.unlink_translation(article)
        actions.link_translation(article, other)
    return article


def _editor(request, article: Article | None):
    if request.method == "POST":
        form = ArticleForm(request.POST, article=article)
        if form.is_valid() and "preview" not in request.POST:
            try:
                saved = _save(request, form, article)
            except ActionError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                flash.success(request, _("Article saved."))
                return redirect("knowledge:detail", pk=saved.pk)
    elif article is not None:
        form = ArticleForm(initial=ArticleForm.initial_for(article), article=article)
    else:
        initial = {"status": Article.Status.DRAFT, "visibility": Article.Visibility.PUBLIC,
                   "language": request.GET.get("language") or ("de" if request.LANGUAGE_CODE == "de" else "en")}
        source = request.GET.get("translate")
        if is_id(source):
            original = Article.objects.filter(pk=int(source)).first()
            if original is not None:
                initial.update(translation_of=original, category=original.category,
                               language="en" if original.language == "de" else "de",
                               visibility=original.visibility, body=original.body)
        form = ArticleForm(initial=initial, article=None)
    body = form.data.get("body") if form.is_bound else form.initial.get("body", "")
    return render(request, "knowledge/edit.html", {
        "form": form, "article": article, "preview": render_markdown(body or ""),
        "previewing": request.method == "POST" and "preview" in request.POST,
    })


@editor_required
def article_new(request):
    return _editor(request, None)


@editor_required
def article_edit(request, pk: int):
    return _editor(request, get_object_or_404(Article, pk=pk))


@editor_required
@require_POST
def article_status(request, pk: int):
    article = get_object_or_404(Article, pk=pk)
    status = request.POST.get("status", "")
    try:
        actions.set_status(article, request.user, status)
    except ActionError as exc:
        flash.error(request, exc.message)
    else:
        flash.success(request, _("Status changed to %(status)s.") % {"status": Article.Status(status).label})
    return redirect("knowledge:detail", pk=pk)


@login_required
@require_POST
def preview(request):
    """The rendered Markdown of the editor's text, for the live preview."""
    return HttpResponse(render_markdown(request.POST.get("body", "")), content_type="text/html; charset=utf-8")


@login_required
def history(request, pk: int):
    article = get_object_or_404(Article, pk=pk)
    versions = article.versions.select_related("editor__agent")
    return render(request, "knowledge/history.html", {"article": article, "versions": versions,
                                                      "can_edit": can_edit(request.user)})


@login_required
def version(request, pk: int, number: int):
    article = get_object_or_404(Article, pk=pk)
    v = get_object_or_404(ArticleVersion.objects.select_related("editor__agent"), article=article, number=number)
    return render(request, "knowledge/version.html", {"article": article, "version": v,
                                                      "html": render_markdown(v.body),
                                                      "can_edit": can_edit(request.user)})


@editor_required
@require_POST
def restore(request, pk: int, number: int):
    article = get_object_or_404(Article, pk=pk)
    v = get_object_or_404(ArticleVersion, article=article, number=number)
    actions.restore_version(article, v, request.user)
    flash.success(request, _("Version %(number)s restored.") % {"number": number})
    return redirect("knowledge:detail", pk=pk)


@login_required
def categories(request):
    editable = can_edit(request.user)
    form = CategoryForm(request.POST or None)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("Only supervisors and administrators can change the knowledge base."))
        if form.is_valid():
            d = form.cleaned_data
            try:
                category = actions.create_category(d["name"], name_de=d["name_de"], description=d["description"])
                if d.get("position") is not None:
                    actions.update_category(category, name=category.name, name_de=category.name_de,
                                            description=category.description, position=d["position"])
            except ActionError as exc:
                form.add_error("name", exc.message)
            else:
                flash.success(request, _("Category created."))
                return redirect("knowledge:categories")
    rows = Category.objects.annotate(
        n_articles=Count("articles"),
        n_published=Count("articles", filter=Q(articles__status=Article.Status.PUBLISHED)))
    return render(request, "knowledge/categories.html", {"form": form, "categories": rows, "can_edit": editable})


@editor_required
def category_edit(request, pk: int):
    category = get_object_or_404(Category, pk=pk)
    form = CategoryForm(request.POST or None, initial={"name": category.name, "name_de": category.name_de,
                                                       "description": category.description,
                                                       "position": category.position})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            actions.update_category(category, name=d["name"], name_de=d["name_de"], description=d["description"],
                                    position=d.get("position"))
        except ActionError as exc:
            form.add_error("name", exc.message)
        else:
            flash.success(request, _("Category saved."))
            return redirect("knowledge:categories")
    return render(request, "knowledge/category_edit.html", {"form": form, "category": category})


@editor_required
def transfer_page(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size > transfer.MAX_FILE_BYTES:
            errors = [_("The file is larger than %(mb)s MB.") % {"mb": transfer.MAX_FILE_BYTES // 2**20}]
        else:
            try:
                result = transfer.import_file(upload.name, upload.read(), request.user)
            except transfer.ImportFailed as exc:
                errors = exc.errors
            else:
                flash.success(request, _("Imported %(created)s new and %(updated)s updated articles.")
                              % {"created": result.created, "updated": result.updated})
                if result.skipped:
                    flash.info(request, _("Skipped files that are not Markdown: %(names)s")
                               % {"names": ", ".join(result.skipped[:20])})
                return redirect("knowledge:list")
    return render(request, "knowledge/transfer.html", {"form": form, "errors": errors,
                                                       "count": Article.objects.count()})


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


exporter_required = permission_required("data.export")


@exporter_required
def export_json(request):
    audit.record("knowledge.export", actor=request.user, target_label="knowledge base", format="json")
    response = JsonResponse(transfer.export_json(), json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="knowledge-{_stamp()}.json"'
    return response


@exporter_required
def export_zip(request):
    audit.record("knowledge.export", actor=request.user, target_label="knowledge base", format="zip")
    response = HttpResponse(transfer.export_zip(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="knowledge-{_stamp()}.zip"'
    return response
