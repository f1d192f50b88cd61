from resonanz.analysis import lexicon


def test_polarity_of_plain_words():
    assert lexicon.score("Super Hilfe, danke!")[0] > 0.3
    assert lexicon.score("Das ist eine Frechheit")[0] < -0.3


def test_negation_flips_and_damps():
    pos = lexicon.score("Das war gut")[0]
    neg = lexicon.score("Das war nicht gut")[0]
    assert pos > 0 > neg
    assert abs(neg) < abs(pos)


def test_intensifier_strengthens():
    assert lexicon.score("sehr gut")[0] > lexicon.score("gut")[0]


def test_emoji_and_irony():
    assert lexicon.score("🙄")[0] < 0
    assert lexicon.score("😍")[0] > 0
    assert lexicon.score("Na super, schon wieder kaputt")[0] < 0
    assert lexicon.score("Oh great, broken again")[0] < 0
