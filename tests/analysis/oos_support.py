"""A small model whose intents include an "everything else" class, for the analyzer and bot tests."""

from __future__ import annotations

import random

from resonanz.analysis import Example, ModelStore
from resonanz.analysis.model import seed_examples, train_model

OTHER = [
    "Wie wird das Wetter morgen in Berlin?", "Wer hat gestern das Spiel gewonnen?", "Erzähl mir einen Witz",
    "Was ist die Hauptstadt von Australien?", "Hast du ein gutes Rezept für Apfelkuchen?",
    "Wie spät ist es in Tokio?", "Welcher Film läuft heute im Kino?", "Wie hoch ist der Mount Everest?",
    "Kannst du mir ein Gedicht über den Herbst schreiben?", "Wie viele Einwohner hat Hamburg?",
    "Was bedeutet das Wort Schadenfreude?", "Spielst du gern Schach?", "Wann beginnen die Sommerferien in Bayern?",
    "Wie koche ich Spaghetti richtig?", "Welche Farbe hat ein Flamingo?",
    "What's the weather like tomorrow in London?", "Who won the football match last night?", "Tell me a joke",
    "What is the capital of Canada?", "Do you have a good recipe for banana bread?", "What time is it in Sydney?",
    "Which movies are playing tonight?", "How tall is the Eiffel Tower?", "Write me a poem about the sea",
    "How many people live in Paris?", "What does the word serendipity mean?", "Do you like playing chess?",
    "When does the school holiday start?", "How do I boil an egg?", "What colour is a flamingo?",
    "Recommend a good book for the beach", "How far is the moon from the earth?",
]


def oos_examples(n_seed: int = 700, seed: int = 5) -> list[Example]:
    ex = seed_examples()
    random.Random(seed).shuffle(ex)
    other = [Example(text=t, intents=["other"], language="de" if i < 15 else "en") for i, t in enumerate(OTHER)]
    return ex[:n_seed] + other * 2


def oos_store(root) -> ModelStore:
    """A store whose active version knows an "other" intent (trained without embeddings)."""
    store = ModelStore(root)
    model = train_model(oos_examples(), embedder=None, folds=3)
    version = store.save(model, "test", {"note": "with an everything-else intent"})
    store.activate(version)
    return store
