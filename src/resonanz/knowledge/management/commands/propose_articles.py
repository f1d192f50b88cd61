"""Propose draft articles from recurring questions that agents answered but no article covers."""

from django.core.management.base import BaseCommand

from resonanz.knowledge.learning import propose_articles


class Command(BaseCommand):
    help = "Find recurring unanswered questions in resolved conversations and propose draft articles for review."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=90, help="look at conversations resolved in this many days")
        parser.add_argument("--min-size", type=int, default=3, help="how many similar conversations make a pattern")

    def handle(self, *args, days, min_size, **options):
        drafts = propose_articles(days=days, min_size=min_size)
        for article in drafts:
            self.stdout.write(f"proposed draft #{article.pk}: {article.title} "
                              f"({article.proposal['size']} conversations)")
        self.stdout.write(f"{len(drafts)} new draft article(s); review them under Knowledge → proposed drafts.")
