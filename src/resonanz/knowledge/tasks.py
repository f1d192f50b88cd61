from celery import shared_task


@shared_task(name="resonanz.knowledge.tasks.propose_articles")
def propose_articles_task() -> int:
    from resonanz.knowledge.learning import propose_articles

    return len(propose_articles())
