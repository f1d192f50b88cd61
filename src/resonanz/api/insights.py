"""REST endpoints of insights: /api/listening-queries/ (with ``preview/``), /api/insights/dashboard/ (with
``team``/``agent`` for the KPIs), /api/insights/ideas/ (the dashboard's idea groups), /api/insights/launch/,
/api/alerts/ (read, acknowledge), /api/goals/, /api/alert-channels/ and /api/notifications/ (one's own,
``read/`` marks them read). Supervisors change queries, goals and alert channels; every agent reads."""

from __future__ import annotations

from datetime import date

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from resonanz.api.params import choice_params, choice_query, id_params, id_query
from resonanz.connectors import drivers
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.core.params import MAX_ID, is_id
from resonanz.core.permissions import Needs, WritesNeed
from resonanz.inbox.models import AgentProfile, Team
from resonanz.insights import actions, dashboard, launch
from resonanz.insights.models import Alert, AlertChannel, Goal, ListeningQuery, Notification

ManageWritesOthersRead = WritesNeed.of("insights.manage")


def _scope_fields(serializer) -> None:
    """The driver registry is the only list of channel kinds: kinds registered after start-up count too."""
    serializer.fields["channel_kinds"].child.choices = drivers.choices()


class ListeningQuerySerializer(serializers.ModelSerializer):
    languages = serializers.ListField(child=serializers.ChoiceField(choices=actions.LANGUAGE_VALUES), required=False)
    channel_kinds = serializers.ListField(child=serializers.ChoiceField(choices=drivers.choices()), required=False)
    channels = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Channel.objects.all())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _scope_fields(self)

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
    languages = serializers.ListField(child=serializers.ChoiceField(choices=actions.LANGUAGE_VALUES), required=False)
    channel_kinds = serializers.ListField(child=serializers.ChoiceField(choices=drivers.choices()), required=False)
    channels = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), required=False)
    include_messages = serializers.BooleanField(required=False, default=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _scope_fields(self)


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
    intent = serializers.CharField(read_only=True, help_text="the intent that spiked, for an intent alert")
    entity = serializers.CharField(read_only=True, help_text="the product, brand or competitor that spiked")
    entity_kind = serializers.CharField(read_only=True)
    ratio = serializers.FloatField(read_only=True, allow_null=True, help_text="observed / expected, for a volume alert")

    class Meta:
        model = Alert
        fields = ["id", "key", "kind", "query", "label", "hour", "observed", "expected", "score", "ratio", "intent",
                  "entity", "entity_kind", "terms", "fact_ids", "created_at", "acknowledged_by", "acknowledged_at"]


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = AlertSerializer
    permission_classes = [ManageWritesOthersRead]
    queryset = Alert.objects.all()

    @extend_schema(request=None, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return Response(AlertSerializer(actions.acknowledge_alert(self.get_object(), request.user)).data)


class GoalSerializer(serializers.ModelSerializer):
    target = serializers.FloatField(min_value=-100, max_value=1_000_000, help_text=(
        "nps: −100 to 100; csat: 1 to 5; the shares (sla, negative, reopen, automation): 0 to 100; others from 0"))
    period_days = serializers.IntegerField(min_value=1, max_value=366, required=False, default=30)

    class Meta:
        model = Goal
        fields = ["id", "team", "kpi", "target", "period_days", "created_at"]
        validators = []


class GoalViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Goals per team (``team`` null: the whole company); creating one for a team and KPI that has one replaces
    its target. Reading a goal includes its progress."""

    serializer_class = GoalSerializer
    permission_classes = [ManageWritesOthersRead]
    pagination_class = None  # a goal per team and KPI: one list, as ``list`` answers
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


def _selection(params) -> dashboard.Selection:
    """The dashboard's filter from the query string: a bad value is a 400 naming it, an unknown query a 404."""
    choice_params(params, days=dashboard.PERIODS, language=dashboard.LANGUAGES)
    id_params(params, "channel", "query")
    sel = dashboard.Selection.from_params(params)
    if params.get("query") and sel.query is None:
        get_object_or_404(ListeningQuery, pk=-1)
    return sel


def selection_parameters() -> list[OpenApiParameter]:
    return [choice_query("days", dashboard.PERIODS, "the period in days (default 30)"), id_query("channel"),
            choice_query("language", dashboard.LANGUAGES), id_query("query", "a listening query")]


class DashboardView(APIView):
    """The dashboard's data for a selection: ``days`` (1, 7, 30, 90, 365), ``channel``, ``language``, ``query``.
    The ideas grouped by similarity are ``/api/insights/ideas/`` (clustering takes seconds)."""

    permission_classes = [ManageWritesOthersRead]

    @extend_schema(parameters=[
        *selection_parameters(),
        id_query("team", "KPIs of this team"), id_query("agent", "KPIs of this agent (an agent profile's id)")],
        responses={200: dict, 404: OpenApiResponse(description="no such team, agent or listening query")})
    def get(self, request):
        params = request.query_params
        sel = _selection(params)
        team, agent = _team_and_agent(params)
        return Response({
            "selection": {**sel.params(), "start": sel.start, "end": sel.end},
            "volume": dashboard.volume(sel), "intents": dashboard.intents(sel), "urgency": dashboard.urgency(sel),
            "entities": dashboard.entities(sel),
            "share_of_voice": dashboard.share_of_voice(sel), "driving_terms": dashboard.cached_terms(sel),
            "top_authors": dashboard.cached_authors(sel),
            **dashboard.by_channel_and_language(sel),
            "alerts": AlertSerializer(dashboard.alerts(sel), many=True).data,
            "kpis": dashboard.kpis(sel.days, team, agent=agent.user if agent else None),
            "per_agent": [{**{k: v for k, v in r.items() if k != "agent"}, "agent": r["agent"].pk,
                           "agent_name": r["agent"].display_name}
                          for r in (dashboard.per_agent(sel.days, team) if team and not agent else [])],
        })


def _team_and_agent(params):
    """The KPI filters; an unknown team or agent is a 404 rather than the whole company's figures."""
    team = agent = None
    id_params(params, "team", "agent")
    if params.get("team"):
        team = get_object_or_404(Team, pk=int(params["team"]))
    if params.get("agent"):
        agent = get_object_or_404(AgentProfile.objects.select_related("user"), pk=int(params["agent"]), is_bot=False)
    return team, agent


class InsightSelectionSerializer(serializers.Serializer):
    days = serializers.ChoiceField(choices=dashboard.PERIODS)
    channel = serializers.IntegerField(required=False, help_text="only when the selection names a channel")
    language = serializers.ChoiceField(choices=dashboard.LANGUAGES, required=False)
    query = serializers.IntegerField(required=False, help_text="the listening query, when one is chosen")
    start = serializers.DateTimeField()
    end = serializers.DateTimeField(help_text="exclusive: the end of the current hour")


class InsightIdeaExampleSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="the item's text, at most 300 characters")
    sentiment = serializers.ChoiceField(choices=dashboard.SENTIMENT_ORDER)
    at = serializers.DateTimeField()
    post_id = serializers.IntegerField(allow_null=True, help_text="a public post's id, or null for a message")
    conversation_id = serializers.IntegerField(allow_null=True, help_text="a message's conversation, or null")


class InsightIdeaGroupSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="the words the group's items share")
    size = serializers.IntegerField(help_text="its items in the period")
    previous = serializers.IntegerField(help_text="its items in the period before")
    change = serializers.FloatField(allow_null=True, help_text=(
        "(size − previous) / previous: 0.5 is 50 % more; null when it had none before (new)"))
    weeks = serializers.ListField(child=serializers.IntegerField(), help_text=(
        "items per step of the period (``step``), oldest first; the last one ends with the period"))
    examples = InsightIdeaExampleSerializer(many=True, help_text="up to three, the most typical first")
    title = serializers.CharField(help_text="a title for a community idea made of it")
    description = serializers.CharField(help_text="the examples as a Markdown list, for a community idea")
    conversations = serializers.ListField(child=serializers.IntegerField(), help_text="its conversations' ids")
    posts = serializers.ListField(child=serializers.IntegerField(), help_text="its public posts' ids")


class InsightIdeasSerializer(serializers.Serializer):
    selection = InsightSelectionSerializer()
    step = serializers.ChoiceField(choices=["day", "week"], help_text="what one number of ``weeks`` counts")
    groups = InsightIdeaGroupSerializer(many=True, help_text="the largest first (at most 8)")
    total = serializers.IntegerField(help_text="items read as a suggestion or idea in the period (up to 300 read)")
    sampled = serializers.BooleanField(help_text="true: only the newest 300 of them were grouped")


def _idea_group(g: dict) -> dict:
    """A group as the desk shows it, with what making a community idea of it takes (``POST
    /api/community/ideas/from-group/`` with its title, description, conversations and posts)."""
    description = "\n".join(f"- {e['text'][:200]}" for e in g["examples"])
    return {**g, "description": description}


class IdeasView(APIView):
    """The ideas and suggestions of a selection grouped by similarity (``insights.ideas``): each group's size,
    the previous period's count and the change, a count per week (per day for 7 days or less) and examples,
    and what ``POST /api/community/ideas/from-group/`` takes to make a community idea of it. Its own endpoint
    as on the desk, where it loads after the page: clustering embeds texts (seconds for hundreds of new
    items); kept a few minutes per selection and newest item."""

    permission_classes = [ManageWritesOthersRead]

    @extend_schema(parameters=selection_parameters(),
                   responses={200: InsightIdeasSerializer, 404: OpenApiResponse(description="no such listening query")})
    def get(self, request):
        from resonanz.insights import ideas  # the clustering engine, loaded only when asked

        sel = _selection(request.query_params)
        found = dashboard.cached_ideas(sel)
        return Response(InsightIdeasSerializer({
            "selection": {**sel.params(), "start": sel.start, "end": sel.end},
            "step": "day" if ideas.step_of(sel).days == 1 else "week",
            "groups": [_idea_group(g) for g in found["groups"]], "total": found["total"],
            "sampled": found["sampled"]}).data)


class LaunchView(APIView):
    """The launch monitor: ``query`` (id), ``start`` (YYYY-MM-DD; default the query's launch date), ``days``."""

    permission_classes = [ManageWritesOthersRead]

    @extend_schema(parameters=[
        OpenApiParameter("query", {"type": "integer", "minimum": 1, "maximum": MAX_ID}, required=True,
                         description="the listening query"),
        OpenApiParameter("start", OpenApiTypes.DATE, description="default: the query's launch date"),
        choice_query("days", launch.WINDOWS, "the window in days (default 14)")],
        responses={200: dict, 404: OpenApiResponse(description="no such listening query")})
    def get(self, request):
        value = request.query_params.get("query", "")
        if not is_id(value):
            raise ValidationError({"query": ["Give the id of a listening query."]})
        choice_params(request.query_params, days=launch.WINDOWS)
        query = get_object_or_404(ListeningQuery, pk=int(value))
        try:
            start = date.fromisoformat(request.query_params["start"]) if request.query_params.get("start") \
                else query.launch_at
        except ValueError:
            raise ValidationError({"start": ["Write the date as YYYY-MM-DD."]}) from None
        if start is None:
            raise ValidationError({"start": ["Give a start date or set the query's launch date."]})
        days = request.query_params.get("days", "14")
        if not days.isdigit() or int(days) not in launch.WINDOWS:
            raise ValidationError({"days": [f"One of {', '.join(map(str, launch.WINDOWS))}."]})
        data = launch.report(launch.Launch(query, start, int(days)))
        data["query"] = {"id": query.pk, "name": query.name, "tag": query.tag}
        data["window"] = {"start": data["window"][0], "end": data["window"][1]}
        data["baseline"] = {"start": data["baseline"][0], "end": data["baseline"][1]}
        return Response(data)


class AlertChannelSerializer(serializers.ModelSerializer):
    secret = serializers.SerializerMethodField()

    class Meta:
        model = AlertChannel
        fields = ["id", "team", "kind", "url", "only_query", "enabled", "last_error", "secret", "created_at"]
        read_only_fields = ["last_error", "secret", "created_at"]

    def get_secret(self, obj) -> str:
        """Shown only in the answer that created the webhook; masked afterwards."""
        return obj.secret if self.context.get("show_secret") else ("••••" if obj.secret else "")


class AlertChannelViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Where a team's early warnings go: ``in_app``, ``email`` or a signed ``webhook`` (secret shown once)."""

    permission_classes = [Needs.of("insights.manage")]
    serializer_class = AlertChannelSerializer
    queryset = AlertChannel.objects.select_related("team", "only_query")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        d = serializer.validated_data
        try:
            channel = actions.save_alert_channel(team=d.get("team"), kind=d["kind"], url=d.get("url", ""),
                                                 only_query=d.get("only_query"), enabled=d.get("enabled", True))
        except ActionError as exc:
            raise ValidationError(exc.as_dict()) from None
        return Response(AlertChannelSerializer(channel, context={"show_secret": True}).data,
                        status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        actions.delete_alert_channel(instance)


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "alert", "created_at", "read_at"]


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in person's in-app notifications, newest first; ``?unread=1`` for the unread ones."""

    serializer_class = NotificationSerializer

    def get_queryset(self):
        qs = Notification.objects.filter(user=self.request.user)
        return qs.filter(read_at__isnull=True) if self.request.query_params.get("unread") == "1" else qs

    @extend_schema(request=None, responses=dict)
    @action(detail=False, methods=["post"])
    def read(self, request):
        return Response({"marked_read": actions.mark_notifications_read(request.user)})
