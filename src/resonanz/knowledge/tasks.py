"""Beat-driven work of the knowledge base: draft articles proposed from recurring questions."""

from celery import shared_task

from resonanz.knowledge.learning import propose_articles


@shared_task(name="resonanz.knowledge.tasks.propose_articles")
def propose_articles_task() -> int:
    return len(propose_articles())
