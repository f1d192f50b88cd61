"""``resonanz restore ARCHIVE [--force]``: put a backup of the embedded mode back in place."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from resonanz.core.backup import BackupError, layout, restore


class Command(BaseCommand):
    help = "Restore a backup written by `resonanz backup` (stop Resonanz first)."

    def add_arguments(self, parser):
        parser.add_argument("archive")
        parser.add_argument("--force", action="store_true", help="replace a database that already holds data")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, archive, force=False, no_progress=False, **options):
        if connection.vendor != "sqlite":
            raise CommandError("This instance uses PostgreSQL: restore the database with pg_restore "
                               "(docs/operations.md).")
        path = Path(archive)
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        connection.close()  # our own connection must not hold the file while it is replaced
        try:
            manifest = restore(layout(), path, force=force, show_progress=not no_progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Restored the backup of {manifest['created']}. Start Resonanz again; `resonanz migrate` brings an "
            "older backup up to this version."))
