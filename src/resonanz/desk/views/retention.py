"""Settings → Retention: how long closed conversations are kept, per channel or for all, with a dry run."""

from __future__ import annotations

from django.contrib import messages as flash
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from resonanz.core.errors import ActionError
from resonanz.core.permissions import permission_required
from resonanz.desk.forms.retention import RetentionRuleForm
from resonanz.inbox import retention
from resonanz.inbox.models import RetentionRule

admin_required = permission_required("settings.manage")


@admin_required
def rules(request):
    form = RetentionRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            retention.save_rule(actor=request.user, **form.cleaned_data)
        except ActionError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            flash.success(request, _("Retention rule saved. The worker applies it within the hour."))
            return redirect("inbox:admin_retention")
    due = retention.plan()
    counts = {item.rule.pk: item.count for item in due}
    rows = [(rule, counts.get(rule.pk)) for rule in RetentionRule.objects.select_related("channel")]
    return render(request, "admin/retention.html", {"form": form, "rows": rows,
                                                    "total": sum(counts.values())},
                  status=400 if request.method == "POST" else 200)


@admin_required
@require_POST
def rule_delete(request, pk: int):
    retention.delete_rule(get_object_or_404(RetentionRule, pk=pk), actor=request.user)
    flash.success(request, _("Retention rule removed; conversations are kept."))
    return redirect("inbox:admin_retention")
