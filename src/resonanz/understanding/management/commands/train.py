"""Train a new model version from agents' corrections and labelled files."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from resonanz.core.errors import ActionError
from resonanz.core.progress import Progress
from resonanz.understanding import actions


class Command(BaseCommand):
    help = ("Train a new text-understanding model version from corrections (and --file labelled CSV/TSV/JSONL). "
            "It replaces the active version only if it scores at least as well on held-back data.")

    def add_arguments(self, parser):
        parser.add_argument("--file", action="append", default=[], help="labelled file; repeat for several")
        parser.add_argument("--no-corrections", action="store_true", help="ignore agents' corrections")

    def handle(self, *args, file, no_corrections, **options):
        with Progress("embedding training texts") as progress:
            try:
                result = actions.train(file, use_corrections=not no_corrections, progress=progress)
            except ActionError as exc:
                raise CommandError(exc.message) from exc
        held = f"{result.candidate_score:.3f}" if result.candidate_score is not None else "n/a"
        active = f"{result.active_score:.3f}" if result.active_score is not None else "none"
        self.stdout.write(f"trained {result.version} on {result.n_train} examples in {result.seconds} s; "
                          f"held-back score {held} (active {result.previous_version or '-'}: {active})")
        if result.activated:
            self.stdout.write(self.style.SUCCESS(f"{result.version} is now active."))
        else:
            self.stdout.write(self.style.WARNING(
                f"{result.version} scored worse and was NOT activated; {result.previous_version} stays active."))
