"""``resonanz backup [ARCHIVE]``: the embedded mode's database, attachments, models and keys in one archive,
safe while Resonanz runs (see resonanz.core.backup)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from resonanz.core.backup import BackupError, backup, layout


class Command(BaseCommand):
    help = "Back up the embedded mode (SQLite database, attachments, models, keys) while it runs."

    def add_arguments(self, parser):
        parser.add_argument("archive", nargs="?", help="where to write the .tar.gz (default: var/backups/…)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars (for cron)")

    def handle(self, *args, archive=None, no_progress=False, **options):
        if connection.vendor != "sqlite":
            raise CommandError("This instance uses PostgreSQL: back it up with pg_dump (docs/operations.md) and "
                               "copy RESONANZ_VAR_DIR (media, models, keys) alongside.")
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = Path(archive) if archive else Path(settings.VAR_DIR) / "backups" / f"resonanz-{stamp}.tar.gz"
        try:
            manifest = backup(layout(), target, show_progress=not no_progress)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        files = ", ".join(f"{n} {name}" for name, n in manifest["files"].items())
        self.stdout.write(self.style.SUCCESS(
            f"Backup written to {target}: database {manifest['database']['bytes'] // 1024} KiB, {files}, "
            f"keys {', '.join(manifest['keys']) or 'from the environment (not in the archive)'}."))
