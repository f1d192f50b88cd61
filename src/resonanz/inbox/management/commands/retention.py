"""``resonanz retention [--dry-run]``: delete or anonymise closed conversations past their retention rule now
(the worker does it every hour), with a progress bar; ``--dry-run`` says how many would go."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from resonanz.core.progress import Progress
from resonanz.inbox import retention


class Command(BaseCommand):
    help = "Apply the retention rules (Settings → Retention) now; --dry-run only counts."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")

    def handle(self, *args, dry_run, **options):
        due = retention.plan()
        if not due:
            self.stdout.write("No retention rules are enabled; set them under Settings → Retention.")
            return
        for item in due:
            rule = item.rule
            where = rule.channel.name if rule.channel_id else "all other channels"
            self.stdout.write(f"{where}: {item.count} closed conversation(s) older than {rule.days} days "
                              f"would be {'deleted' if rule.action == 'delete' else 'anonymised'}")
        total = sum(item.count for item in due)
        if dry_run:
            self.stdout.write(f"Dry run: {total} conversation(s) would go; nothing was changed.")
            return
        with Progress("retention", total, unit="conversations") as bar:
            done = retention.apply(progress=bar, actor_label="console")
        self.stdout.write(f"{done} conversation(s) deleted or anonymised.")
