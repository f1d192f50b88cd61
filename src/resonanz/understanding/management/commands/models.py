"""List the text-understanding model versions, or roll back to one."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from resonanz.core.errors import ActionError
from resonanz.understanding import actions, engine


class Command(BaseCommand):
    help = "List model versions (the active one is marked) or activate an earlier one with --rollback VERSION."

    def add_arguments(self, parser):
        parser.add_argument("--rollback", metavar="VERSION")

    def handle(self, *args, rollback, **options):
        if rollback:
            try:
                actions.rollback(rollback)
            except ActionError as exc:
                raise CommandError(exc.message) from exc
            self.stdout.write(self.style.SUCCESS(f"{rollback} is active again."))
        store = engine.store()
        active = store.active_version()
        versions = store.list_versions()
        if not versions:
            self.stdout.write("No model yet: `resonanz setup` builds the first one from the seed corpus.")
        for v in versions:
            mark = "*" if v.get("version") == active else " "
            metrics = ", ".join(f"{k}={val:.3f}" if isinstance(val, float) else f"{k}={val}"
                                for k, val in (v.get("metrics") or {}).items())
            self.stdout.write(f"{mark} {v.get('version')}  {v.get('kind', '')}  {v.get('created', '')}  {metrics}")
