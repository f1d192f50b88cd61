"""RetrievalIndex: the ranking core behind help-center search, agent suggestions and automatic answers.

Pure Python (numpy), no Django: the web side stores articles in its database,
builds this index from (id, title, body, language, history) tuples, keeps it
current with ``upsert``/``remove`` and persists it with ``save``/``load``.
Everything that ranks goes through ``_rank`` so search, suggestions and the bot
agree.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..embedder import Embedder
from . import text
from .confidence import ConfidenceModel
from .confidence import fit as fit_confidence
from .dense import Matrix, QueryMean, centred_norms, centred_sims, matvec, max_per_owner, unit
from .lexical import FieldIndex
from .model import Answer, Document, Hit
from .ranking import RankConfig, fuse, top_k

log = logging.getLogger(__name__)
MAX_QUERY_CHARS = 10_000
DEFAULT_THRESHOLD = 0.9


@dataclass
class _Record:
    doc: Document
    title_terms: list[str]
    body_terms: list[str]
    gram_terms: list[str]
    history_slots: list[int] = field(default_factory=list)
    negative_slots: list[int] = field(default_factory=list)
    helpful: int = 0
    unhelpful: int = 0


@dataclass
class _Ranking:
    order: np.ndarray
    fused: np.ndarray
    lexical: np.ndarray
    dense_q: np.ndarray | None
    dense_p: np.ndarray | None


class RetrievalIndex:
    """Hybrid lexical + embedding index over knowledge-base articles, updated incrementally."""

    def __init__(self, embedder: Embedder | None = None, config: RankConfig | None = None) -> None:
        self.embedder = embedder
        self.config = config or RankConfig()
        self.confidence = ConfidenceModel()
        self.dim = int(getattr(embedder, "dim", 0) or 0) if embedder is not None else 0
        self.records: list[_Record | None] = []
        self.slot_of: dict[str, int] = {}
        self.title = FieldIndex(b=self.config.b_title)
        self.body = FieldIndex(b=self.config.b_body)
        self.grams = FieldIndex(b=self.config.b_body)
        self.hist = FieldIndex(b=self.config.b_title)
        self.hist_owner: list[int] = []
        self.hist_text: list[str] = []
        self.neg_owner: list[int] = []
        self.neg_text: list[str] = []
        self.vec_title = Matrix(self.dim or 1)
        self.vec_passage = Matrix(self.dim or 1)
        self.vec_hist = Matrix(self.dim or 1)
        self.vec_neg = Matrix(self.dim or 1)
        self.alive = np.zeros(0, dtype=bool)
        self.hist_alive = np.zeros(0, dtype=bool)
        self.neg_alive = np.zeros(0, dtype=bool)
        self.prior = np.zeros(0, dtype=np.float32)
        self._owner_arr = np.zeros(0, dtype=np.int64)
        self.query_mean = QueryMean(self.dim or 1)
        self.learn_query_mean = True
        self._version = 0
        self._centring: tuple | None = None

    # ------------------------------------------------------------------ changes
    def __len__(self) -> int:
        return len(self.slot_of)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self.slot_of

    def add_many(self, docs: Iterable[Document]) -> None:
        """Add or replace documents; embeddings are computed in batches (the slow part)."""
        docs = list(docs)
        for d in docs:
            if d.id in self.slot_of:
                self.remove(d.id)
        titles, passages = self._embed_docs(docs)
        for i, d in enumerate(docs):
            slot = self._add_record(d)
            if titles is not None:
                self.vec_title.set(slot, titles[i])
                self.vec_passage.set(slot, passages[i])
        hist = [(d.id, h) for d in docs for h in d.history if h and h.strip()]
        self._add_history(hist, source_vectors=None)

    def upsert(self, doc: Document) -> None:
        """Add a new article or replace a changed one (its history is taken from ``doc``)."""
        self.add_many([doc])

    def remove(self, doc_id: str) -> bool:
        slot = self.slot_of.pop(doc_id, None)
        if slot is None:
            return False
        rec = self.records[slot]
        assert rec is not None
        self.title.remove(slot, rec.title_terms)
        self.body.remove(slot, rec.body_terms)
        self.grams.remove(slot, rec.gram_terms)
        for h in rec.history_slots:
            self.hist.remove(h, self._hist_terms(self.hist_text[h]))
            self.hist_alive[h] = False
            self.vec_hist.clear(h)
        for n in rec.negative_slots:
            self.neg_alive[n] = False
        self.records[slot] = None
        self._version += 1
        self.alive[slot] = False
        self.vec_title.clear(slot)
        self.vec_passage.clear(slot)
        return True

    def add_history(self, doc_id: str, questions: Sequence[str]) -> int:
        """Questions the article is known to answer (resolved conversations); returns how many were added."""
        if doc_id not in self.slot_of:
            return 0
        return self._add_history([(doc_id, q) for q in questions if q and q.strip()], None)

    def record_feedback(self, doc_id: str, query: str, helpful: bool) -> None:
        """A vote on a shown article: helpful makes the query part of its history, unhelpful
        pushes the article down for queries like this one; both move its small vote prior."""
        slot = self.slot_of.get(doc_id)
        if slot is None or not (query or "").strip() or len(query) > MAX_QUERY_CHARS:
            return
        rec = self.records[slot]
        assert rec is not None
        if helpful:
            rec.helpful += 1
            self._update_prior(slot, rec)
            self._add_history([(doc_id, query)], None)
            return
        rec.unhelpful += 1
        self._update_prior(slot, rec)
        self._add_negative(slot, query, self._embed_query(query))

    def _add_negative(self, slot: int, query: str, vec: np.ndarray | None) -> None:
        rec = self.records[slot]
        assert rec is not None
        n = len(self.neg_owner)
        self.neg_owner.append(slot)
        self.neg_text.append(query)
        self.neg_alive = np.append(self.neg_alive, True)
        rec.negative_slots.append(n)
        if vec is not None:
            self.vec_neg.set(n, vec)

    # ------------------------------------------------------------------ reading
    def search(self, query: str, k: int = 10, language: str | None = None,
               query_vector: np.ndarray | None = None, learn: bool = True) -> list[Hit]:
        """The k best articles for a query, best first; [] for empty, huge or stop-word-only input."""
        return self.query(query, k, language, query_vector, learn=learn)[0]

    def answer(self, query: str, threshold: float = DEFAULT_THRESHOLD, language: str | None = None,
               query_vector: np.ndarray | None = None) -> Answer | None:
        """The best article if its calibrated confidence reaches ``threshold``, else None."""
        best = self.query(query, 1, language, query_vector)[1]
        return best if best is not None and best.confidence >= threshold else None

    def query(self, query: str, k: int = 10, language: str | None = None,
              query_vector: np.ndarray | None = None, learn: bool = True) -> tuple[list[Hit], Answer | None]:
        """Ranked hits and the top article with its confidence, from one ranking pass.

        ``query_vector`` lets a caller that already embedded the query (a batch, a
        cache) skip the embedder; without it the configured embedder is asked.
        ``learn=False``: the vector is an approximation (a static embedding) and must
        not move the learnt mean of the encoder's query vectors.
        """
        if query_vector is None and isinstance(query, str) and query.strip() and len(query) <= MAX_QUERY_CHARS:
            query_vector = self._embed_query(query) if text.query_forms(query, language) else None
        ranking = self._rank(query, language, query_vector)
        if ranking is None or not len(ranking.order):
            return [], None
        if learn and self.learn_query_mean and query_vector is not None and self.dim:
            self.query_mean.observe(np.asarray(query_vector, dtype=np.float64).reshape(-1))
        hits = []
        for slot in ranking.order[:k]:
            rec = self.records[slot]
            assert rec is not None
            dense = float(ranking.dense_q[slot]) if ranking.dense_q is not None else 0.0
            hits.append(Hit(rec.doc.id, float(ranking.fused[slot]), float(ranking.lexical[slot]), dense))
        top = self.records[int(ranking.order[0])]
        assert top is not None
        return hits, Answer(top.doc.id, self.confidence.predict(self._features(ranking)))

    def calibrate(self, min_examples: int = 30) -> bool:
        """Fit the confidence model by asking every history question with itself left out.

        Returns False (and keeps the current model) when there is too little history.
        """
        feats, labels = [], []
        for h in np.flatnonzero(self.hist_alive):
            owner = self.hist_owner[h]
            vec = self.vec_hist.view[h] if self.dim and h < self.vec_hist.size else None
            ranking = self._rank(self.hist_text[h], None, vec, exclude_history=int(h))
            if ranking is None or not len(ranking.order):
                continue
            feats.append(self._features(ranking))
            labels.append(int(ranking.order[0]) == owner)
        model = fit_confidence(np.array(feats), np.array(labels), min_examples)
        if model is None:
            return False
        self.confidence = model
        return True

    # ------------------------------------------------------------------ internals
    def _add_record(self, d: Document) -> int:
        lang = d.language if d.language in text.LANGUAGES else "en"
        title_terms = text.doc_terms(d.title, lang)
        body_terms = text.doc_terms(d.body, lang)
        grams = [g for t in set(title_terms + body_terms) for g in text.char_ngrams(t)]
        slot = len(self.records)
        self.records.append(_Record(Document(d.id, d.title, d.body, lang, []), title_terms, body_terms, grams))
        self.slot_of[d.id] = slot
        self._version += 1
        self.alive = np.append(self.alive, True)
        self.title.add(slot, title_terms)
        self.body.add(slot, body_terms)
        self.grams.add(slot, grams)
        return slot

    def _update_prior(self, slot: int, rec: _Record) -> None:
        if len(self.prior) < len(self.records):
            self.prior = np.concatenate([self.prior, np.zeros(len(self.records) - len(self.prior), np.float32)])
        share = (rec.helpful + 1) / (rec.helpful + rec.unhelpful + 2)
        self.prior[slot] = self.config.vote_weight * (share - 0.5)

    @property
    def _owners(self) -> np.ndarray:
        if len(self._owner_arr) != len(self.hist_owner):
            self._owner_arr = np.asarray(self.hist_owner, dtype=np.int64)
        return self._owner_arr

    def _hist_terms(self, question: str) -> list[str]:
        return text.doc_terms(question, "")

    def _add_history(self, items: list[tuple[str, str]], source_vectors: np.ndarray | None) -> int:
        if not items:
            return 0
        vecs = source_vectors
        if vecs is None and self.embedder is not None and self.dim:
            vecs = self._safe_embed(self.embedder.embed_queries, [q for _, q in items])
        start = len(self.hist_owner)
        for i, (doc_id, q) in enumerate(items):
            slot, h = self.slot_of[doc_id], start + i
            rec = self.records[slot]
            assert rec is not None
            rec.doc.history.append(q)
            rec.history_slots.append(h)
            self.hist_owner.append(slot)
            self.hist_text.append(q)
            self.hist.add(h, self._hist_terms(q))
            if vecs is not None:
                self.vec_hist.set(h, vecs[i])
        self.hist_alive = np.append(self.hist_alive, np.ones(len(items), dtype=bool))
        self._version += 1
        return len(items)

    def _embed_docs(self, docs: list[Document]) -> tuple[np.ndarray | None, np.ndarray | None]:
        if self.embedder is None or not self.dim or not docs:
            return None, None
        titles = self._safe_embed(self.embedder.embed_queries, [d.title or d.body[:200] for d in docs])
        passages = self._safe_embed(self.embedder.embed_passages, [passage_text(d) for d in docs])
        if titles is None or passages is None:
            return None, None
        return titles, passages

    def _safe_embed(self, fn, texts: list[str]) -> np.ndarray | None:
        try:
            return np.asarray(fn(texts), dtype=np.float32)
        except Exception:  # an embedder failure degrades to lexical ranking, never breaks search
            log.exception("embedding failed; ranking lexically")
            return None

    def _embed_query(self, query: str) -> np.ndarray | None:
        if self.embedder is None or not self.dim:
            return None
        vecs = self._safe_embed(self.embedder.embed_queries, [query])
        return None if vecs is None else vecs[0]

    def _rank(self, query: str, language: str | None, query_vector: np.ndarray | None,
              exclude_history: int | None = None) -> _Ranking | None:
        if not isinstance(query, str) or not query.strip() or len(query) > MAX_QUERY_CHARS or not self.slot_of:
            return None
        groups = text.query_forms(query, language)
        if not groups:
            return None
        cfg, n, alive = self.config, len(self.records), self.alive
        lex_q, lex_c, lex_h = self._lexical(groups, n, exclude_history)
        parts = [(cfg.w_lex_question, lex_q), (cfg.w_lex_content, lex_c), (cfg.w_lex_history, lex_h)]
        qv = query_vector if query_vector is not None else self._embed_query(query)
        dense_q = dense_p = None
        if qv is not None and self.dim and self.vec_title.size:
            qv = np.asarray(qv, dtype=np.float32).reshape(-1)
            dense_q, dense_p = self._dense(qv, n, exclude_history)
            parts += [(cfg.w_dense_question, dense_q), (cfg.w_dense_passage, dense_p)]
        fused = fuse(parts, alive, cfg.fusion, cfg.z_clip, cfg.rrf_k)
        fused += self._adjustments(qv, n)
        lexical = lex_q + lex_c
        if dense_q is None and not (lexical[alive] > 0).any():
            return None  # nothing in the query occurs anywhere and no embeddings: no grounds to rank
        return _Ranking(top_k(fused, 50), fused, lexical, dense_q, dense_p)

    def _lexical(self, groups: list[frozenset[str]], n: int,
                 exclude: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Question-like fields (title or best history question), content fields, history alone."""
        cfg = self.config
        t, tc = self.title.score(groups, n)
        hist = np.zeros(n, dtype=np.float32)
        if len(self.hist):
            hs, hc = self.hist.score(groups, len(self.hist_owner))
            if exclude is not None:
                hs[exclude] = 0.0
            live = np.flatnonzero(self.hist_alive & (hs > 0))
            hist = max_per_owner(hs[live] / max(hc, 1e-9), self._owners[live], n)
        question = np.maximum(cfg.field_title * t / max(tc, 1e-9), cfg.field_history * hist)
        b, bc = self.body.score(groups, n)
        gram_groups = sorted({frozenset([g]) for forms in groups for f in forms for g in text.char_ngrams(f)},
                             key=min)
        g, gc = self.grams.score(gram_groups, n)
        content = cfg.field_body * b / max(bc, 1e-9) + cfg.field_grams * g / max(gc, 1e-9)
        return question.astype(np.float32), content.astype(np.float32), hist

    def _centring_state(self) -> tuple:
        """Means and centred row norms of the vector tables, recomputed only after a change."""
        if self._centring is not None and self._centring[0] == self._version:
            return self._centring
        n = len(self.records)
        alive = self.alive
        titles, passages = self.vec_title.view[:n], self.vec_passage.view[:n]
        hist = self.vec_hist.view[: len(self.hist_alive)]
        questions = [titles[alive]]
        if len(hist):
            questions.append(hist[self.hist_alive[: len(hist)]])
        q_mean = np.concatenate(questions).mean(axis=0).astype(np.float32)
        p_mean = passages[alive].mean(axis=0).astype(np.float32)
        self._centring = (self._version, q_mean, p_mean, centred_norms(titles, q_mean),
                          centred_norms(passages, p_mean), centred_norms(hist, q_mean))
        return self._centring

    def _dense(self, qv: np.ndarray, n: int, exclude: int | None) -> tuple[np.ndarray, np.ndarray]:
        _, q_mean, p_mean, t_norms, p_norms, h_norms = self._centring_state()
        qc = unit(qv - self.query_mean.value(q_mean))
        dq = centred_sims(self.vec_title.view[:n], q_mean, qc, t_norms)
        if len(h_norms):
            sims = centred_sims(self.vec_hist.view[: len(h_norms)], q_mean, qc, h_norms)
            mask = self.hist_alive[: len(sims)].copy()
            if exclude is not None and exclude < len(mask):
                mask[exclude] = False
            live = np.flatnonzero(mask)
            dq = np.maximum(dq, max_per_owner(sims[live], self._owners[live], n, fill=-1.0))
        return dq.astype(np.float32), centred_sims(self.vec_passage.view[:n], p_mean, qc, p_norms)

    def _adjustments(self, qv: np.ndarray | None, n: int) -> np.ndarray:
        """Learning from votes: a prior per article and a penalty near queries it failed."""
        cfg = self.config
        adj = np.zeros(n, dtype=np.float32)
        adj[: len(self.prior)] += self.prior[:n]
        if qv is not None and self.vec_neg.size and self.neg_alive.any():
            sims = matvec(self.vec_neg.view, qv)
            hit = np.flatnonzero(self.neg_alive[: len(sims)] & (sims >= cfg.negative_sim))
            for i in hit:
                adj[self.neg_owner[i]] -= cfg.negative_penalty
        return adj

    def _features(self, r: _Ranking) -> np.ndarray:
        order = r.order
        first = int(order[0])
        second = int(order[1]) if len(order) > 1 else None
        fused_margin = float(r.fused[first] - r.fused[second]) if second is not None else 5.0
        alive = self.alive
        fz = float(r.fused[first] - r.fused[alive].mean()) / (float(r.fused[alive].std()) + 1e-9)
        if r.dense_q is not None:
            dq = r.dense_q
            dense_top = int(np.argmax(np.where(alive, dq, -np.inf)))
            others = np.where(alive, dq, -np.inf)
            others[first] = -np.inf
            dense_margin = float(dq[first] - others.max()) if len(order) > 1 else 0.2
            qsim, agree_dense = float(dq[first]), dense_top == first
        else:
            qsim, dense_margin, agree_dense = 0.0, 0.0, True
        lex = np.where(alive, r.lexical, -np.inf)
        agree = float(int(np.argmax(lex)) == first and agree_dense)
        return np.array([fz, fused_margin, qsim, dense_margin, float(r.lexical[first]), agree])


def passage_text(doc: Document) -> str:
    """What the passage embedding reads: title and body (e5 keeps the first 512 tokens)."""
    return f"{doc.title}\n{doc.body}".strip()
