"""REST endpoints of the automation app: /api/rules/, /api/rule-runs/, /api/sla-policies/, /api/calendars/,
/api/pending-replies/ (approve / return) and /api/reply-check/. Supervisors change, every agent reads."""

from __future__ import annotations

from zoneinfo import available_timezones

from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.api.params import id_params
from resonanz.api.strict import ANY_OBJECT, TypedJSONField
from resonanz.automation import actions, approval, effects, sla
from resonanz.automation.models import BusinessCalendar, PendingReply, Rule, RuleRun, SLAPolicy
from resonanz.core.errors import ActionError
from resonanz.core.params import MAX_ID
from resonanz.core.permissions import WritesNeed
from resonanz.inbox.models import Conversation
from resonanz.inbox.queries import visible_conversations

SupervisorWritesOthersRead = WritesNeed.of("rules.edit")


def _actions_schema() -> dict:
    """Each action is an object with its ``type`` (the effect registry's kinds) and that kind's parameters."""
    return {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["type"], "additionalProperties": {},
        "properties": {"type": {"type": "string", "enum": effects.kinds()}}}}


class RuleSerializer(serializers.ModelSerializer):
    conditions = TypedJSONField(schema={**ANY_OBJECT, "description": 'A condition group: {"all": [...]} or '
                                                                    '{"any": [...]}; null or {} matches everything'},
                                required=False, allow_null=True)
    actions = TypedJSONField(schema=_actions_schema())

    class Meta:
        model = Rule
        fields = ["id", "name", "description", "trigger", "conditions", "actions", "position", "enabled",
                  "stop_processing", "fire_count", "last_fired_at", "last_error", "disabled_at", "is_default",
                  "created_at", "updated_at"]
        read_only_fields = ["fire_count", "last_fired_at", "last_error", "disabled_at", "is_default", "created_at",
                            "updated_at"]

    def validate_conditions(self, value):
        return {} if value is None else value

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for a in data.get("actions") or []:
            if isinstance(a, dict) and a.get("secret"):
                a["secret"] = "********"  # the webhook secret is never shown again
        return data


def _keep_secrets(new_actions, old_actions):
    """A masked secret sent back unchanged keeps the stored one."""
    old = {a.get("url"): a.get("secret") for a in old_actions or [] if a.get("type") == "webhook"}
    for a in new_actions or []:
        if isinstance(a, dict) and a.get("type") == "webhook" and a.get("secret") == "********":
            a["secret"] = old.get(a.get("url"), "")
    return new_actions


class RuleViewSet(viewsets.ModelViewSet):
    """Rules in order; saving validates (patterns, teams, agents, articles) and says why a rule is refused."""

    serializer_class = RuleSerializer
    permission_classes = [SupervisorWritesOthersRead]
    queryset = Rule.objects.order_by("position", "id")

    def _save(self, serializer, rule):
        d = serializer.validated_data
        current = rule or Rule()
        serializer.instance = actions.save_rule(
            rule, self.request.user, name=d.get("name", current.name), trigger=d.get("trigger", current.trigger),
            conditions=d.get("conditions", current.conditions),
            actions=_keep_secrets(d.get("actions", current.actions), current.actions),
            description=d.get("description", current.description), enabled=d.get("enabled", current.enabled),
            stop_processing=d.get("stop_processing", current.stop_processing), position=d.get("position"))

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        actions.delete_rule(instance)

    @extend_schema(request=None, responses=RuleSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request, pk=None):
        return Response(RuleSerializer(actions.set_enabled(self.get_object(), True)).data)

    @extend_schema(request=None, responses=RuleSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request, pk=None):
        return Response(RuleSerializer(actions.set_enabled(self.get_object(), False)).data)


class RuleRunSerializer(serializers.ModelSerializer):
    rule_name = serializers.CharField(source="rule.name", read_only=True)

    class Meta:
        model = RuleRun
        fields = ["id", "rule", "rule_name", "event_key", "trigger", "conversation", "post_id", "reason", "actions",
                  "created_at"]


class RuleRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Which rules acted, on what, and why. Filter with ?conversation= or ?rule=."""

    serializer_class = RuleRunSerializer

    def get_queryset(self):
        qs = RuleRun.objects.select_related("rule").order_by("-id")
        for key, value in id_params(self.request.query_params, "conversation", "rule").items():
            qs = qs.filter(**{f"{key}_id": value})
        return qs


_TIME = {"type": "string", "pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}
HOURS = {"type": "object", "additionalProperties": False,
         "description": 'Opening hours per weekday ("0" Monday … "6" Sunday): [start, end] spans, e.g. '
                        '{"0": [["09:00", "17:00"]]}; an end of 24:00 is midnight; a span must end after it starts',
         "properties": {str(day): {"type": "array", "items": {"type": "array", "minItems": 2, "maxItems": 2,
                                                                "items": _TIME}} for day in range(7)}}
HOLIDAYS = {"type": "array", "items": {"type": "string", "format": "date"}, "description": "Closed days"}


class CalendarSerializer(serializers.ModelSerializer):
    hours = TypedJSONField(schema=HOURS, required=False)
    holidays = TypedJSONField(schema=HOLIDAYS, required=False)
    timezone = serializers.ChoiceField(choices=["", *sorted(available_timezones())], allow_blank=True,
                                       required=False, help_text="An IANA time zone; empty: the installation's")

    class Meta:
        model = BusinessCalendar
        fields = ["id", "name", "team", "timezone", "hours", "holidays"]

    def validate(self, attrs):
        hours = attrs.get("hours", getattr(self.instance, "hours", None))
        try:
            text = sla.format_hours(hours or {})
            sla.parse_hours(text)
            sla.parse_holidays("\n".join(attrs.get("holidays", getattr(self.instance, "holidays", []) or [])))
            sla.Hours(hours, [], attrs.get("timezone", "")).add(timezone.now(), 1)
        except Exception as exc:
            raise serializers.ValidationError({"hours": [str(getattr(exc, "message", exc))]}) from None
        return attrs


class CalendarViewSet(viewsets.ModelViewSet):
    serializer_class = CalendarSerializer
    permission_classes = [SupervisorWritesOthersRead]
    queryset = BusinessCalendar.objects.order_by("name")

    def _save(self, serializer, calendar):
        d, current = serializer.validated_data, calendar or BusinessCalendar()
        serializer.instance = actions.save_calendar(
            calendar, name=d.get("name", current.name), hours=d.get("hours", current.hours),
            holidays=d.get("holidays", current.holidays), tz=d.get("timezone", current.timezone),
            team=d.get("team", current.team))

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        actions.delete_calendar(instance)


class SLAPolicySerializer(serializers.ModelSerializer):
    class Meta:
        model = SLAPolicy
        fields = ["id", "name", "team", "priority", "channel", "calendar", "first_response_minutes",
                  "resolution_minutes", "warn_before_minutes", "enabled"]


class SLAPolicyViewSet(viewsets.ModelViewSet):
    serializer_class = SLAPolicySerializer
    permission_classes = [SupervisorWritesOthersRead]
    queryset = SLAPolicy.objects.order_by("name")

    def _save(self, serializer, policy):
        d, current = serializer.validated_data, policy or SLAPolicy()
        serializer.instance = actions.save_sla_policy(
            policy, **{f: d.get(f, getattr(current, f)) for f in SLAPolicySerializer.Meta.fields if f != "id"})

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        actions.delete_sla_policy(instance)


class PendingReplySerializer(serializers.ModelSerializer):
    class Meta:
        model = PendingReply
        fields = ["id", "conversation", "author", "text", "status_after", "warnings", "reason", "state", "reviewer",
                  "review_note", "reviewed_at", "message", "created_at"]
        read_only_fields = fields


class DecisionSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class PendingReplyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The approval queue (?state=pending by default). Every agent reads it; supervisors decide."""

    serializer_class = PendingReplySerializer
    permission_classes = [WritesNeed.of("replies.approve")]

    def get_queryset(self):
        state = self.request.query_params.get("state", "pending")
        qs = PendingReply.objects.order_by("id")
        return qs if state == "all" else qs.filter(state=state)

    @extend_schema(request=DecisionSerializer, responses={201: PendingReplySerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        pending = get_object_or_404(PendingReply, pk=pk)
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        approval.approve(pending, request.user, text=body.validated_data.get("text") or None)
        pending.refresh_from_db()
        return Response(PendingReplySerializer(pending).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSerializer, responses=PendingReplySerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_reply(self, request, pk=None):
        pending = get_object_or_404(PendingReply, pk=pk)
        body = DecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(PendingReplySerializer(approval.return_reply(pending, request.user,
                                                                     body.validated_data.get("note", ""))).data)


class ReplyCheckSerializer(serializers.Serializer):
    conversation = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    text = serializers.CharField()


class ReplyCheckView(APIView):
    """Guideline warnings for a reply before it is sent, and whether it would wait for approval."""

    @extend_schema(request=ReplyCheckSerializer, responses={200: dict})
    def post(self, request):
        body = ReplyCheckSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        conversation = visible_conversations(Conversation.objects.all(), request.user).filter(
            pk=body.validated_data["conversation"]).first()
        if conversation is None:  # an id in the body, not the path: bad input (400), as the schema says
            raise ActionError("No such conversation, or not one you may see.", "conversation")
        return Response({"warnings": approval.check_reply(conversation, request.user, body.validated_data["text"]),
                         "approval": approval.needs_approval(conversation, request.user)})
