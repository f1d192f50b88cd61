"""Retention rules in the API: administrators set them; ``preview`` is the dry run, ``apply`` runs them now."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from resonanz.connectors.models import Channel
from resonanz.core.permissions import WritesNeed
from resonanz.inbox import retention
from resonanz.inbox.models import RetentionRule


class RetentionRuleSerializer(serializers.ModelSerializer):
    channel = serializers.PrimaryKeyRelatedField(queryset=Channel.objects.all(), allow_null=True, required=False,
                                                 help_text="Empty: every channel without a rule of its own.")
    days = serializers.IntegerField(min_value=1, max_value=36500)

    class Meta:
        model = RetentionRule
        fields = ["id", "channel", "days", "action", "enabled", "last_run_at", "last_count"]
        read_only_fields = ["last_run_at", "last_count"]
        validators = []  # one rule per channel: saving for a channel that has one changes it


class RetentionDueSerializer(serializers.Serializer):
    rule = serializers.IntegerField()
    channel = serializers.IntegerField(allow_null=True)
    days = serializers.IntegerField()
    action = serializers.CharField()
    would_go = serializers.IntegerField()


class RetentionAppliedSerializer(serializers.Serializer):
    conversations = serializers.IntegerField()


class RetentionRuleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                           mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """How long closed conversations are kept. Creating a rule for a channel that has one changes it."""

    serializer_class = RetentionRuleSerializer
    permission_classes = [WritesNeed.of("settings.manage")]
    queryset = RetentionRule.objects.select_related("channel").order_by("id")

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = retention.save_rule(channel=data.get("channel"), days=data["days"],
                                                  action=data.get("action", "delete"),
                                                  enabled=data.get("enabled", True), actor=self.request.user)

    def perform_destroy(self, instance):
        retention.delete_rule(instance, actor=self.request.user)

    @extend_schema(responses=RetentionDueSerializer(many=True))
    @action(detail=False, methods=["get"], pagination_class=None)  # one row per rule, one list
    def preview(self, request):
        """The dry run: how many closed conversations each enabled rule would delete or anonymise now."""
        return Response([{"rule": d.rule.pk, "channel": d.rule.channel_id, "days": d.rule.days,
                          "action": d.rule.action, "would_go": d.count} for d in retention.plan()])

    @extend_schema(request=None, responses=RetentionAppliedSerializer)
    @action(detail=False, methods=["post"])
    def apply(self, request):
        """Run the rules now (the worker does it every hour); audit-logged per rule."""
        return Response({"conversations": retention.apply(actor=request.user)})
