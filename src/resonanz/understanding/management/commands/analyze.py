"""Analyse a text from the command line, to see what the engine reads."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from resonanz.understanding.engine import catalog, get_analyzer


class Command(BaseCommand):
    help = "Print the analysis of one or more texts as JSON."

    def add_arguments(self, parser):
        parser.add_argument("texts", nargs="+")
        parser.add_argument("--post", action="store_true", help="judge as a public post (relevance)")

    def handle(self, *args, texts, post, **options):
        results = get_analyzer().analyze_batch(texts, catalog=catalog(), kind="post" if post else "message")
        for result in results:
            self.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
