import json

from resonanz.analysis import Analyzer, Catalog

CATALOG = Catalog.from_dict({
    "company": [{"name": "PaketPlus", "aliases": ["Paket Plus"]}],
    "products": [{"name": "FritzBox 7590", "aliases": ["Fritzbox"]}, {"name": "Glasfaser Max"}],
    "competitors": ["QuickShip", "Telefix"],
})


def test_result_has_every_field_and_serialises(analyzer):
    r = analyzer.analyze("Mein Router ist seit drei Tagen kaputt, ich kündige!!", catalog=CATALOG)
    d = r.to_dict()
    assert set(d) >= {"language", "sentiment", "intents", "urgency", "complexity", "entities", "key_phrases",
                      "relevance", "model_version"}
    json.dumps(d)
    assert r.language.code == "de"
    assert r.sentiment.label == "negative" and r.sentiment.score < 0
    assert "churn_risk" in r.intents.labels
    assert r.urgency > 0.5 and r.complexity.label == "complex" and not r.complexity.bot_answerable
    assert r.model_version == analyzer.version


def test_simple_question_is_bot_answerable(analyzer):
    r = analyzer.analyze("Wie kann ich meine Adresse ändern?")
    assert r.intents.labels == ["question"]
    assert r.sentiment.label == "neutral"
    assert r.complexity.label == "simple" and r.complexity.bot_answerable
    assert r.urgency < 0.5


def test_english_praise(analyzer):
    r = analyzer.analyze("Thanks so much, the support team was amazing 😍")
    assert r.language.code == "en" and r.sentiment.label == "positive" and "praise" in r.intents.labels


def test_legal_threat_is_urgent(analyzer):
    r = analyzer.analyze("Wenn ich bis morgen nichts höre, schalte ich meinen Anwalt ein.")
    assert "legal_threat" in r.intents.labels and r.urgency >= 0.7 and r.complexity.label == "complex"


def test_fuzzy_catalog_matches_typos_and_kinds(analyzer):
    r = analyzer.analyze("Meine Fritzbx 7590 von Paket Plus spinnt, bei Telefix lief alles", catalog=CATALOG)
    kinds = {e.name: e.kind for e in r.entities}
    assert kinds == {"FritzBox 7590": "product", "PaketPlus": "company", "Telefix": "competitor"}


def test_short_names_need_exact_match(analyzer):
    cat = Catalog.from_dict({"products": ["Mini"]})
    assert analyzer.analyze("Der Mini ist toll", catalog=cat).entities[0].name == "Mini"
    assert analyzer.analyze("Die Minute war toll", catalog=cat).entities == []


def test_relevance_of_posts_depends_on_naming_the_company(analyzer):
    about = analyzer.analyze("PaketPlus hat mein Paket verloren, unfassbar", catalog=CATALOG, kind="post")
    other = analyzer.analyze("Heute Abend Tatort, wer schaut mit?", catalog=CATALOG, kind="post")
    assert about.relevance > 0.7 > other.relevance
    assert about.relevance > other.relevance + 0.3


def test_spam_is_irrelevant(analyzer):
    r = analyzer.analyze("Verdiene 5000 € pro Woche von zu Hause! Klick hier: http://bit.ly/abc", kind="message")
    assert "spam" in r.intents.labels and r.relevance < 0.5


def test_batch_equals_single(analyzer):
    texts = ["Danke!", "Wo ist mein Paket?", "Internet down again"]
    batch = analyzer.analyze_batch(texts)
    assert [b.to_dict() for b in batch] == [analyzer.analyze(t).to_dict() for t in texts]


def test_configurable_label_set(store_dir):
    a = Analyzer(store_dir, embedder=None, labels=["question", "complaint"])
    r = a.analyze("Wann kommt mein Paket?")
    assert set(r.intents.probabilities) == {"question", "complaint"}


def test_lexicon_only_mode_without_model():
    a = Analyzer(None)
    assert a.analyze("Super Hilfe, danke!").sentiment.label == "positive"
    assert a.analyze("Das ist eine Frechheit").sentiment.label == "negative"
    assert a.analyze("Super Hilfe, danke!").model_version == "lexicon-only"
