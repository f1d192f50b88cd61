"""Earlier answers: what agents replied in resolved conversations with a similar first question."""

from __future__ import annotations

import threading

from django.db.models import Count, Max, Sum

from resonanz.analysis.retrieval import Document, RetrievalIndex
from resonanz.inbox.models import Conversation, Message
from resonanz.knowledge.embedding import cached_embedder

LIMIT = 5000


class ReplyIndex:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.index: RetrievalIndex | None = None
        self.signature: tuple | None = None
        self.known: set[int] = set()

    def _forgotten(self) -> bool:
        """Did a conversation in the index go (GDPR erasure, retention) or lose its text (anonymised)?"""
        from resonanz.inbox.retention import ANONYMOUS_HANDLE

        still = set(self._resolved().filter(pk__in=self.known)
                    .exclude(contact__identities__handle=ANONYMOUS_HANDLE).values_list("pk", flat=True))
        return still != self.known

    def _resolved(self):
        return Conversation.objects.filter(status__in=("resolved", "closed"), first_response_at__isnull=False)

    def sync(self) -> RetrievalIndex:
        with self.lock:
            agg = self._resolved().aggregate(n=Count("id"), last=Max("resolved_at"), who=Sum("contact_id"))
            signature = (agg["n"], agg["last"], agg["who"])
            if self.index is not None and signature == self.signature:
                return self.index
            if self.known and self._forgotten():
                self.index, self.known = None, set()  # an erased or anonymised answer must not be suggested
            if self.index is None:
                self.index = RetrievalIndex(cached_embedder())
            ids = list(self._resolved().exclude(pk__in=self.known).order_by("-resolved_at")
                       .values_list("pk", flat=True)[:LIMIT])
            docs = []
            for conversation_id in ids:
                question = (Message.objects.filter(conversation_id=conversation_id, direction="inbound")
                            .order_by("id").values_list("text", flat=True).first())
                reply = (Message.objects.filter(conversation_id=conversation_id, direction="outbound",
                                                author_user__agent__is_bot=False)
                         .order_by("id").values_list("id", "text").first())
                if question and reply:
                    docs.append(Document(id=f"{conversation_id}:{reply[0]}", title=question[:500], body=reply[1]))
                self.known.add(conversation_id)
            if docs:
                self.index.add_many(docs)
            self.signature = signature
            return self.index

    def similar(self, question: str, k: int = 3, exclude_conversation: int | None = None, *, vector=None,
                approximate: bool = False, synced: bool = False) -> list[dict]:
        """Earlier answers to similar first questions; a batch passes its query ``vector`` and syncs once."""
        with self.lock:
            index = self.index if synced and self.index is not None else self.sync()
            if not len(index) or not question.strip():
                return []
            hits = index.search(question[:2000], k=k + 1, query_vector=vector, learn=not approximate)
        out = []
        for hit in hits:
            conversation_id, message_id = (int(x) for x in hit.doc_id.split(":"))
            if conversation_id == exclude_conversation:
                continue
            out.append({"conversation_id": conversation_id, "message_id": message_id, "score": round(hit.score, 4)})
        return out[:k]


_replies = ReplyIndex()


def replies() -> ReplyIndex:
    return _replies
