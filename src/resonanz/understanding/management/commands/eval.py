"""`resonanz eval`: evaluate the engine on a named benchmark set or on any labelled files.

`resonanz eval faq ...` evaluates the knowledge-base ranking instead, `resonanz eval alerts ...` the
spike detector. All run the engine directly (no database needed); the argument parsing lives with the engine.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Evaluate text understanding (resonanz eval NAME | --train F --test F ...), answers (resonanz eval faq ...) "
            "or early warning (resonanz eval alerts --series F... --windows F).")

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.add_argument("args", nargs="*")
        return parser

    def run_from_argv(self, argv):
        # Hand everything after `eval` to the engine's own argparse (it has the full help text).
        rest = argv[2:]
        if rest and rest[0] == "faq":
            from resonanz.analysis.retrieval.evaluate import main
            code = main(rest[1:])
        elif rest and rest[0] == "alerts":
            from resonanz.analysis.alerts.evaluate import main
            from resonanz.core.progress import Progress

            code = main(rest[1:], progress_factory=Progress)
        else:
            from resonanz.analysis.evaluate import main
            code = main(rest)
        if code:
            sys.exit(code)

    def handle(self, *args, **options):
        raise CommandError("run as: resonanz eval NAME [--json]")
