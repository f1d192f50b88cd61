"""Learning from agents: recurring questions that no article answers become draft articles for an editor.

Resolved conversations are grouped by the meaning of the customer's first question; a group
becomes a proposal when it is large enough and the agents' replies in it agree with each
other. The draft's text is the reply most typical of the group, its example questions the
customers' own words, so an editor only has to check and publish.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.utils import timezone

from resonanz.inbox.models import Conversation, Message
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.embedding import cached_embedder
from resonanz.knowledge.models import Article
from resonanz.knowledge.search import articles

log = logging.getLogger("resonanz.knowledge")


@dataclass
class Case:
    conversation_id: int
    question: str
    reply: str
    language: str


def _cases(days: int, limit: int = 3000) -> list[Case]:
    since = timezone.now() - timedelta(days=days)
    ids = list(Conversation.objects.filter(status__in=("resolved", "closed"), resolved_at__gte=since)
               .order_by("-resolved_at").values_list("pk", flat=True)[:limit])
    first_in: dict[int, str] = {}
    for cid, text in (Message.objects.filter(conversation_id__in=ids, direction="inbound")
                      .order_by("id").values_list("conversation_id", "text")):
        first_in.setdefault(cid, text)
    first_out: dict[int, str] = {}
    for cid, text in (Message.objects.filter(conversation_id__in=ids, direction="outbound")
                      .exclude(author_user__agent__is_bot=True).order_by("id")
                      .values_list("conversation_id", "text")):
        first_out.setdefault(cid, text)
    languages = dict(Message.objects.filter(conversation_id__in=ids, direction="inbound", analysis__isnull=False)
                     .values_list("conversation_id", "analysis__language"))
    return [Case(cid, first_in[cid][:1000], first_out[cid][:4000], languages.get(cid, "en"))
            for cid in ids if cid in first_in and cid in first_out]


def _vectors(texts: list[str]) -> np.ndarray:
    """Sentence embeddings when available, else TF-IDF over words and character n-grams."""
    embedder = cached_embedder()
    if embedder is not None:
        return np.asarray(embedder.embed_queries(texts), dtype=np.float32)
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrix = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True).fit_transform(texts)
    return matrix.toarray().astype(np.float32)


def _groups(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy grouping: each case joins the first group whose centre is similar enough."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = vectors / np.maximum(norms, 1e-9)
    centres: list[np.ndarray] = []
    groups: list[list[int]] = []
    for i, v in enumerate(unit):
        if centres:
            sims = np.array([c @ v / max(np.linalg.norm(c), 1e-9) for c in centres])
            j = int(np.argmax(sims))
            if sims[j] >= threshold:
                groups[j].append(i)
                centres[j] = centres[j] + v
                continue
        centres.append(v.copy())
        groups.append([i])
    return groups


def propose_articles(*, days: int = 90, min_size: int = 3, question_similarity: float | None = None,
                     reply_similarity: float | None = None, editor=None) -> list[Article]:
    """Create draft articles for recurring, unanswered questions; returns the new drafts."""
    cases = [c for c in _cases(days) if not _answered(c.question)]
    known = set()
    for proposal in Article.objects.filter(source="proposed").values_list("proposal", flat=True):
        known.update((proposal or {}).get("conversations", []))
    cases = [c for c in cases if c.conversation_id not in known]
    if len(cases) < min_size:
        return []
    q_vec = _vectors([c.question for c in cases])
    r_vec = _vectors([c.reply for c in cases])
    embedded = q_vec.shape[1] <= 1024  # dense embeddings; TF-IDF vectors are wider and less similar
    q_sim = question_similarity or (0.86 if embedded else 0.45)
    r_sim = reply_similarity or (0.85 if embedded else 0.35)
    drafts = []
    for group in _groups(q_vec, q_sim):
        if len(group) < min_size:
            continue
        replies = r_vec[group] / np.maximum(np.linalg.norm(r_vec[group], axis=1, keepdims=True), 1e-9)
        agreement = replies @ replies.T
        typical = int(np.argmax(agreement.mean(axis=1)))
        consistent = [group[i] for i in range(len(group)) if agreement[typical, i] >= r_sim]
        if len(consistent) < min_size:
            continue
        questions = q_vec[consistent] / np.maximum(np.linalg.norm(q_vec[consistent], axis=1, keepdims=True), 1e-9)
        centre = int(np.argmax((questions @ questions.T).mean(axis=1)))
        head = cases[consistent[centre]]
        languages = [cases[i].language for i in consistent]
        title = " ".join(head.question.split())
        drafts.append(create_article(
            editor, title=title[:120] + ("…" if len(title) > 120 else ""), body=cases[group[typical]].reply,
            language=max(set(languages), key=languages.count) if set(languages) <= {"de", "en"} else "en",
            example_questions="\n".join(dict.fromkeys(" ".join(cases[i].question.split())[:300]
                                                       for i in consistent[:10])),
            status=Article.Status.DRAFT, source="proposed", note="proposed from resolved conversations",
            proposal={"conversations": [cases[i].conversation_id for i in consistent], "size": len(consistent)},
        ))
    log.info("proposed %d draft articles from %d unanswered resolved conversations", len(drafts), len(cases))
    return drafts


def _answered(question: str) -> bool:
    _, best = articles().best_answer(question)
    return best is not None and best.confidence >= 0.5
