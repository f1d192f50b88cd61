"""resonanz import FILE --channel NAME [--mapping FILE]: load history from CSV or JSONL."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from resonanz.connectors.importing import ImportFileError, import_file


class Command(BaseCommand):
    help = ("Import conversations from a CSV or JSONL file (the Customer-Support-on-Twitter layout needs no "
            "mapping). Safe to interrupt and run again: stored rows are skipped.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--channel", required=True, help="channel name; created (kind import) if missing")
        parser.add_argument("--mapping", help="JSON file: message field -> column or dotted path")
        parser.add_argument("--format", choices=["csv", "jsonl"], default="", help="default: from the file name")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--limit", type=int, help="read at most this many rows")
        parser.add_argument("--analyze", action="store_true",
                            help="let the worker analyse imported customer messages (default: history is not analysed)")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        progress_factory = None
        if not options["no_progress"] and options["verbosity"] > 0:
            from tqdm import tqdm

            def progress_factory(total):
                return tqdm(total=total, unit="rows", unit_scale=True, desc="importing", file=sys.stderr,
                            mininterval=0.5)
        try:
            report = import_file(options["file"], options["channel"], mapping_path=options["mapping"],
                                 fmt=options["format"], batch_size=max(1, options["batch_size"]),
                                 analyze=options["analyze"], progress_factory=progress_factory, limit=options["limit"])
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        for line in report.lines():
            self.stdout.write(line)
        if report.interrupted:
            sys.exit(130)
