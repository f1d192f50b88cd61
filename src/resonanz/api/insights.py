"""REST endpoints of insights: /api/listening-queries/ (with ``preview/``), /api/insights/dashboard/,
/api/alerts/ (read, acknowledge) and /api/goals/. Supervisors change queries and goals; every agent reads."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.connectors.models import Channel
from resonanz.core.permissions import WritesNeed
from resonanz.insights import actions, dashboard
from resonanz.insights.models import Alert, Goal, ListeningQuery

ManageWritesOthersRead = WritesNeed.of("insights.manage")


class ListeningQuerySerializer(serializers.ModelSerializer):
    languages = serializers.ListField(child=serializers.CharField(), required=False)
    channel_kinds = serializers.ListField(child=serializers.CharField(), required=False)
    channels = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Channel.objects.all())

    class Meta:
        model = ListeningQuery
        fields = ["id", "name", "expression", "tag", "languages", "channel_kinds", "channels", "include_messages",
                  "launch_at", "enabled", "backfill_state", "backfill_done", "backfill_total", "backfill_error",
                  "mention_count", "created_at", "updated_at"]
        read_only_fields = ["backfill_state", "backfill_done", "backfill_total", "backfill_error", "mention_count",
                            "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": []}}  # the action checks uniqueness and says which name


class PreviewSerializer(serializers.Serializer):
    expression = serializers.CharField(trim_whitespace=False)
    languages = serializers.ListField(child=serializers.CharField(), required=False)
    channel_kinds = serializers.ListField(child=serializers.CharField(), required=False)
    channels = serializers.ListField(child=serializers.IntegerField(), required=False)
    include_messages = serializers.BooleanField(required=False, default=False)


class ListeningQueryViewSet(viewsets.ModelViewSet):
    """Listening queries; saving parses the expression (a 400 names the position of an error) and matches the
    query over the stored items in the background (``backfill_*`` shows the progress)."""

    serializer_class = ListeningQuerySerializer
    permission_classes = [ManageWritesOthersRead]
    queryset = ListeningQuery.objects.prefetch_related("channels").order_by("tag", "name")

    def _save(self, serializer, query):
        d, current = serializer.validated_data, query or ListeningQuery()
        channels = d.get("channels", list(current.channels.all()) if current.pk else [])
        serializer.instance = actions.save_query(
            query, self.request.user, name=d.get("name", current.name),
            expression=d.get("expression", current.expression), tag=d.get("tag", current.tag),
            languages=d.get("languages", current.languages), channel_kinds=d.get("channel_kinds", current.channel_kinds),
            channels=[c.pk for c in channels], include_messages=d.get("include_messages", current.include_messages),
            enabled=d.get("enabled", current.enabled if current.pk else True),
            launch_at=d.get("launch_at", current.launch_at))

    def perform_create(self, serializer):
        self._save(serializer, None)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)

    def perform_destroy(self, instance):
        actions.delete_query(instance)

    @extend_schema(request=PreviewSerializer, responses=dict)
    @action(detail=False, methods=["post"])
    def preview(self, request):
        """What a query would match over the last 30 days, without saving it."""
        s = PreviewSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        return Response(actions.preview(**s.validated_data))


class AlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = Alert
        fields = ["id", "key", "kind", "query", "label", "hour", "observed", "expected", "score", "terms", "fact_ids",
                  "created_at", "acknowledged_by", "acknowledged_at"]


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AlertSerializer
    permission_classes = [ManageWritesOthersRead]
    queryset = Alert.objects.all()

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return Response(AlertSerializer(actions.acknowledge_alert(self.get_object(), request.user)).data)


class GoalSerializer(serializers.ModelSerializer):
    class Meta:
        model = Goal
        fields = ["id", "team", "kpi", "target", "period_days", "created_at"]
        validators = []


class GoalViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Goals per team (``team`` null: the whole company); creating one for a team and KPI that has one replaces
    its target. Reading a goal includes its progress."""

    serializer_class = GoalSerializer
    permission_classes = [ManageWritesOthersRead]
    queryset = Goal.objects.select_related("team").order_by("id")

    def create(self, request, *args, **kwargs):
        s = self.get_serializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        goal = actions.save_goal(team=d.get("team"), kpi=d["kpi"], target=d["target"],
                                 period_days=d.get("period_days", 30))
        return Response(self._with_progress(goal), status=status.HTTP_201_CREATED)

    def retrieve(self, request, *args, **kwargs):
        return Response(self._with_progress(self.get_object()))

    def list(self, request, *args, **kwargs):
        return Response([self._with_progress(g) for g in self.get_queryset()])

    def perform_destroy(self, instance):
        actions.delete_goal(instance)

    def _with_progress(self, goal):
        p = dashboard.goal_progress(goal)
        return {**GoalSerializer(goal).data, "value": p["value"], "state": p["state"]}


class DashboardView(APIView):
    """The dashboard's data for a selection: ``days`` (1, 7, 30, 90, 365), ``channel``, ``language``, ``query``."""

    permission_classes = [ManageWritesOthersRead]

    @extend_schema(parameters=[OpenApiParameter(n, str, required=False) for n in ("days", "channel", "language",
                                                                                    "query")], responses=dict)
    def get(self, request):
        sel = dashboard.Selection.from_params(request.query_params)
        if request.query_params.get("query") and sel.query is None:
            get_object_or_404(ListeningQuery, pk=-1)
        return Response({
            "selection": {**sel.params(), "start": sel.start, "end": sel.end},
            "volume": dashboard.volume(sel), "intents": dashboard.intents(sel),
            "share_of_voice": dashboard.share_of_voice(sel), "driving_terms": dashboard.terms(sel),
            **dashboard.by_channel_and_language(sel),
            "alerts": AlertSerializer(dashboard.alerts(sel), many=True).data,
            "kpis": dashboard.kpis(sel.days),
        })
