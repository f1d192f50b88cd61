"""Charset rules on bytes: what Japanese, Chinese, Korean and European mailers really send."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resonanz.connectors.mail.charsets import decode_iso2022jp, decode_text

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def jis(text: str) -> bytes:
    """ISO-2022-JP as a Japanese mailer writes it, NEC characters included (the test's own encoder)."""
    out, mode = bytearray(), "ascii"
    for ch in text:
        data = ch.encode("cp932")
        if len(data) == 1:
            if mode != "ascii":
                out += b"\x1b(B"
                mode = "ascii"
            out += data
            continue
        s1, s2 = data
        row = (s1 - (0x70 if s1 < 0xA0 else 0xB0)) * 2 - (1 if s2 < 0x9F else 0)
        cell = s2 - (0x1F if s2 < 0x7F else 0x20) if s2 < 0x9F else s2 - 0x7E
        if mode != "jis":
            out += b"\x1b$B"
            mode = "jis"
        out += bytes((row, cell))
    return bytes(out + (b"\x1b(B" if mode != "ascii" else b""))


def test_gb2312_label_reads_gbk_characters():
    assert decode_text("朱镕基与喆".encode("gbk"), "GB2312") == "朱镕基与喆"


def test_iso2022jp_with_nec_special_characters():
    text = "①②③ ⅢⅣ ㈱㈲ №㎏ お問い合わせ"
    assert decode_text(jis(text), "iso-2022-jp") == text
    assert decode_iso2022jp(b"\x1b(I12\x1b(B") == "ｱｲ"  # half-width katakana


@FAST
@given(st.text(st.sampled_from("あいうえおアイウエオ漢字注文確認①②⑩⑳㈱㈲ⅠⅩ№℡㍻ abc123"), max_size=40))
def test_iso2022jp_round_trips_through_cp932(text):
    assert decode_text(jis(text), "ISO-2022-JP") == text


def test_shift_jis_labelled_iso2022jp_and_8bit_under_ascii_label():
    text = "返品の手続きについて教えてください"
    assert decode_text(text.encode("cp932"), "iso-2022-jp") == text
    assert decode_text("Grüße".encode(), "us-ascii") == "Grüße"


def test_cp949_text_under_euc_kr_labels():
    text = "똠얌꿍 주문 문의"
    assert decode_text(text.encode("cp949"), "euc-kr") == text
    assert decode_text(text.encode("cp949"), "ks_c_5601-1987") == text


def test_no_label_is_guessed_before_falling_back():
    german = "Die Rechnung über 49,90 € wurde doppelt abgebucht. „Bitte“ prüfen Sie das."
    japanese = "先日注文した商品がまだ届いていません。確認をお願いいたします。"
    russian = "Я заказал товар две недели назад, но до сих пор не получил его."
    assert decode_text(german.encode("cp1252")) == german
    assert decode_text(japanese.encode("cp932")) == japanese
    assert decode_text(japanese.encode("euc_jp")) == japanese
    assert decode_text(russian.encode("cp1251")) == russian
    assert decode_text("お問い合わせ".encode("iso2022_jp")) == "お問い合わせ"  # 7-bit JIS without a label


def test_a_hint_from_the_same_mail_wins_for_short_texts():
    assert decode_text("订单".encode("gbk"), None, ["gb2312"]) == "订单"


def test_weak_labels_and_wrong_labels():
    assert decode_text("Grüße".encode(), "iso-8859-1") == "Grüße"  # UTF-8 under a Latin-1 label
    assert decode_text("Grüße".encode("latin-1"), "utf-8") == "Grüße"  # Latin-1 under a UTF-8 label
    assert decode_text(b"caf\xe9 \x81", "iso-8859-1") == "café "  # a C1 byte is no character
    assert decode_text("Grüße".encode(), "x-klingon") == "Grüße"


def test_fallbacks_never_keep_escape_sequences_or_controls():
    assert decode_text(b"\x1b[31mERROR\x1b[0m at 03:00\x07\x00\x08", "us-ascii") == "ERROR at 03:00"
    unknown_designation = decode_text(b"\x1b$B$*\x1b(B and \x1b$Q!!\x1b(B", None)
    assert "\x1b" not in unknown_designation and " and " in unknown_designation


@FAST
@given(st.binary(max_size=400), st.sampled_from([None, "utf-8", "iso-2022-jp", "gb2312", "shift_jis", "euc-kr",
                                                 "us-ascii", "iso-8859-1", "x-unknown", "utf-16", "utf-7"]))
def test_any_bytes_under_any_label_give_clean_text(data, label):
    text = decode_text(data, label)
    assert isinstance(text, str)
    assert "\x1b" not in text and not _CONTROL.search(text.replace("\n", "").replace("\t", ""))
