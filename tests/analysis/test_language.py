import pytest

from resonanz.analysis.language import detect_language, get_detector


@pytest.mark.parametrize("text,code", [
    ("Meine Bestellung ist immer noch nicht da, was ist los?", "de"),
    ("@PaketPlus wo bleibt mein Paket??", "de"),
    ("My parcel still hasn't arrived, what's going on?", "en"),
    ("thx, all sorted now", "en"),
    ("Mon colis n'est toujours pas arrivé.", "other"),
    ("", "other"),
    ("🙂🙂🙂 https://example.com", "other"),
])
def test_detects_german_english_and_other(text, code):
    assert detect_language(text).code == code


def test_nothing_to_go_on_has_zero_confidence():
    assert detect_language("12345 !!!").confidence == 0.0


@pytest.mark.slow
def test_lingua_backend_agrees_on_clear_cases():
    det = get_detector("lingua")
    assert detect_language("Das ist ein ganz normaler deutscher Satz.", det).code == "de"
    assert detect_language("This is a perfectly normal English sentence.", det).code == "en"
