from django.urls import path

from resonanz.desk.views import automation as views

app_name = "automation"
urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<id:pk>/", views.rule_edit, name="rule"),
    path("rules/<id:pk>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<id:pk>/move/", views.rule_move, name="rule_move"),
    path("rules/<id:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("slas/", views.slas, name="slas"),
    path("slas/policies/<id:pk>/", views.policy_edit, name="policy"),
    path("slas/calendars/<id:pk>/", views.calendar_edit, name="calendar"),
    path("approvals/", views.approvals, name="approvals"),
    path("approvals/<id:pk>/", views.approval_decide, name="approval_decide"),
    path("guidelines/", views.guidelines, name="guidelines"),
    path("conversations/<id:pk>/check-reply/", views.check_reply, name="check_reply"),
]
