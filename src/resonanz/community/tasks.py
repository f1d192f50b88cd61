"""Background work of the community: screening new members' posts, escalating unanswered questions."""

from __future__ import annotations

import logging

from celery import shared_task

from resonanz.analysis import abuse
from resonanz.community import actions
from resonanz.community.models import Answer, Comment, Idea, Question
from resonanz.understanding.engine import get_analyzer

log = logging.getLogger("resonanz.community")
_TEXT = {"question": lambda o: f"{o.title}\n{o.body}", "answer": lambda o: o.body,
         "idea": lambda o: f"{o.title}\n{o.description}", "comment": lambda o: o.text}
_MODELS = {"question": Question, "answer": Answer, "idea": Idea, "comment": Comment}


@shared_task(name="resonanz.community.tasks.screen_post")
def screen_post(kind: str, target_id: int) -> bool:
    """The engine reads a new member's post; spam and abuse are held for a moderator."""
    obj = _MODELS[kind].objects.filter(pk=target_id).first()
    if obj is None:
        return False
    text = _TEXT[kind](obj)
    labels = list(get_analyzer().analyze(text).intents.labels)
    if abuse.is_abusive(text):
        labels.append("abusive")
    return actions.hold_if_spam(kind, target_id, labels)


@shared_task(name="resonanz.community.tasks.escalate_unanswered")
def escalate_unanswered() -> int:
    done = actions.escalate_unanswered()
    if done:
        log.info("handed %d unanswered community questions to support", len(done))
    return len(done)
