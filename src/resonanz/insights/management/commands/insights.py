"""``resonanz insights backfill [--query ID]``: match listening queries over stored items, with a progress bar;
``resonanz insights alerts``: run the early-warning detectors now (the worker does it every few minutes);
``resonanz insights days``: build the daily rollups again from the hourly ones (after upgrading to daily
rollups or changing ``TIME_ZONE``), with a progress bar."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from resonanz.core.progress import Progress
from resonanz.insights import alerts, days, demo
from resonanz.insights.backfill import ensure_facts, run_backfill
from resonanz.insights.models import Fact, ListeningQuery
from resonanz.understanding.models import Analysis


class Command(BaseCommand):
    help = "Listening queries and early warning: backfill mentions, run the spike detectors."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="what", required=True)
        back = sub.add_parser("backfill", help="match queries over every stored item")
        back.add_argument("--query", type=int, action="append", help="only this query (id); repeatable")
        sub.add_parser("alerts", help="feed the spike detectors with the hours counted since their last run")
        sub.add_parser("days", help="build the daily rollups again from the hourly ones, in the company's "
                                    "time zone (TIME_ZONE)")
        demo_cmd = sub.add_parser("demo", help="load 30 days of demo posts (a launch, a complaint spike) and queries")
        demo_cmd.add_argument("--remove", action="store_true", help="delete the demo posts and queries")
        demo_cmd.add_argument("--scale", type=float, default=1.0, help="posts per day relative to the default")

    def handle(self, *args, what, **options):
        if what == "demo":
            if options["remove"]:
                self.stdout.write(f"Removed {demo.remove()} demo posts.")
                return
            n = demo.load(scale=options["scale"])
            self.stdout.write(f"Loaded {n} demo posts and the queries Kaffeewerk, BrühBar, Tassenglück, Barista Pro."
                              if n else "The demo posts are loaded already (--remove deletes them).")
            return
        if what == "days":
            zone = days.company_zone().key
            with Progress(f"daily rollups ({zone})", days.count_days(), unit="days") as bar:
                n = days.rebuild(bar)
            self.stdout.write(f"Daily rollups built for {n} day(s); days end at midnight {zone}.")
            return
        if what == "alerts":
            made = alerts.check()
            self.stdout.write(f"{len(made)} new alert(s)")
            for a in made:
                self.stdout.write(f"  {a.label}: {a.observed:g} where {a.expected:.1f} were expected")
            return
        missing = Analysis.objects.filter(post__isnull=False, post__fact__isnull=True).count() + \
            Analysis.objects.filter(message__isnull=False, message__fact__isnull=True).count()
        if missing:
            with Progress("facts for analysed items", missing, unit="items") as bar:
                ensure_facts(bar)
        queries = ListeningQuery.objects.filter(enabled=True)
        if options.get("query"):
            queries = ListeningQuery.objects.filter(pk__in=options["query"])
            if queries.count() != len(set(options["query"])):
                raise CommandError("No listening query with that id; see /api/listening-queries/.")
        for q in queries:
            total = Fact.objects.count() if q.include_messages else Fact.objects.filter(post__isnull=False).count()
            with Progress(f"query “{q.name}”", total, unit="items") as bar:
                n = run_backfill(q.pk, bar)
            self.stdout.write(f"{q.name}: {n} mention(s)")
