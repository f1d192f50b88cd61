"""Background work of the knowledge base: draft articles proposed from recurring questions (beat), and the
ranking learning from votes (embedding a vote's query is never done in a web request)."""

from celery import shared_task

from resonanz.knowledge.learning import propose_articles
from resonanz.knowledge.models import ArticleFeedback


@shared_task(name="resonanz.knowledge.tasks.learn_feedback")
def learn_feedback(feedback_id: int) -> bool:
    from resonanz.knowledge.actions import learn_feedback as learn

    feedback = ArticleFeedback.objects.select_related("article").filter(pk=feedback_id).first()
    return feedback is not None and learn(feedback)


@shared_task(name="resonanz.knowledge.tasks.propose_articles")
def propose_articles_task() -> int:
    return len(propose_articles())
