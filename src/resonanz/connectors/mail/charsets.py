"""Bytes in whatever charset a mailer claimed, or did not claim, to text an agent can read.

Labels in real mail are often wrong or missing. What real mail shows, and what is done about it:

- Mailers label with a family name and send its vendor superset: GB2312 means GB18030 (GBK
  characters), Shift_JIS means cp932, EUC-KR means cp949, Big5 means Big5-HKSCS, ISO-8859-1 and
  ASCII mean cp1252.
- Japanese ISO-2022-JP carries the NEC and IBM characters of cp932 (①, ㈱, Roman numerals) that no
  Python ``iso2022_jp*`` codec reads; the JIS byte pairs are mapped to Shift_JIS and read as cp932.
- A 7-bit label (ASCII, ISO-2022-*) on 8-bit bytes is wrong (Shift_JIS sent as ISO-2022-JP), and
  an ASCII/Latin-1 label on valid UTF-8 is wrong.
- Without a usable label: UTF-8 if it decodes, then the charsets declared elsewhere in the same mail,
  then charset-normalizer's guess, then cp1252, then Latin-1, which cannot fail.

Whatever the path, the result holds no control characters and no escape sequences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

SUPERSETS = {
    "gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030", "euc-cn": "gb18030",
    "csgb2312": "gb18030", "gb_2312-80": "gb18030", "gb_2312": "gb18030", "chinese": "gb18030",
    "x-euc-cn": "gb18030", "hz-gb-2312": "hz",
    "shift_jis": "cp932", "shift-jis": "cp932", "sjis": "cp932", "x-sjis": "cp932", "ms_kanji": "cp932",
    "csshiftjis": "cp932", "windows-31j": "cp932", "x-ms-cp932": "cp932", "shift_jisx0213": "cp932",
    "euc-kr": "cp949", "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "ksc5601": "cp949",
    "x-windows-949": "cp949", "windows-949": "cp949", "korean": "cp949",
    "big5": "big5hkscs", "x-big5": "big5hkscs", "cn-big5": "big5hkscs", "csbig5": "big5hkscs",
    "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "iso8859-1": "cp1252", "iso_8859-1": "cp1252", "windows-1252": "cp1252", "ansi_x3.4-1968": "cp1252",
    "iso-8859-8-i": "iso8859_8", "iso-8859-6-i": "iso8859_6", "tis-620": "cp874", "windows-874": "cp874",
    "iso-8859-11": "cp874", "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8", "x-unicode20utf8": "utf-8",
    "x-user-defined": "cp1252", "unknown-8bit": "", "unknown": "", "x-unknown": "", "default": "",
}
ISO2022_JP = {"iso-2022-jp", "iso-2022-jp-1", "iso-2022-jp-2", "iso-2022-jp-3", "iso-2022-jp-2004",
              "csiso2022jp", "iso2022jp", "iso-2022-jp-ms", "x-windows-iso2022jp", "jis"}
# Labels that promise 7-bit data; 8-bit bytes under them mean the label is wrong.
SEVEN_BIT = ISO2022_JP | {"us-ascii", "ascii", "iso-2022-kr", "iso-2022-cn", "utf-7", "hz-gb-2312"}
WEAK = {"us-ascii", "ascii", "iso-8859-1", "latin1", "latin-1", "iso8859-1", "iso_8859-1", "windows-1252",
        "cp1252", "ansi_x3.4-1968"}
# What a wrong Japanese, Chinese or Korean label usually hides.
FAMILY = {"jp": ("cp932", "euc_jp"), "cn": ("gb18030", "big5hkscs"), "kr": ("cp949",)}
# Candidates for charset-normalizer: the charsets mail to German and English speaking companies arrives in.
GUESSABLE = ["cp1252", "cp1250", "cp1251", "koi8_r", "cp1253", "cp1254", "cp1257", "iso8859_15", "gb18030",
             "big5hkscs", "cp932", "euc_jp", "cp949", "cp1255", "cp1256"]
GUESS_BYTES = 64 * 1024

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
# ISO 2022 designations (ESC $ B, ESC ( J, ...), terminal colour codes (ESC [ 31 m) and other escapes.
_ISO2022_ESCAPE = re.compile("\x1b(?:[$&][()*+]?[@-Z]|[()*+\\-./][ -/]?[@-~])")
_ESCAPE_SEQUENCE = re.compile("\x1b(?:[$&][()*+]?[@-Z]|[()*+\\-./][ -/]?[@-~]|\\[[0-?]*[ -/]*[@-~]|[@-_])?")
_JIS_ESCAPES = (b"\x1b$B", b"\x1b$@", b"\x1b(J", b"\x1b(I")


def label(charset: str | None) -> str:
    """The lower-case label, without RFC 2231 language suffix or quotes."""
    return (charset or "").strip().strip("\"'").split("*", 1)[0].strip().lower()


def codec_for(charset: str | None) -> str:
    """The codec that reads what mailers send under this label ("" for no usable label)."""
    name = label(charset)
    return SUPERSETS.get(name, name)


def decode_text(data: bytes, charset: str | None = None, hints: Iterable[str] = ()) -> str:
    """Text of a body part or header, whatever the label says; never raises, never returns controls."""
    if not data:
        return ""
    for codec in _candidates(data, label(charset), hints):
        text = _try(data, codec)
        if text is not None:
            return clean(text)
    text = _guess(data)
    if text is None:
        text = _try(data, "cp1252")
    if text is None:
        text = data.decode("latin-1")
    return clean(text)


def _candidates(data: bytes, name: str, hints: Iterable[str]) -> list[str]:
    eight_bit = not data.isascii()
    order: list[str] = []
    if not eight_bit and b"\x1b" in data and any(seq in data for seq in _JIS_ESCAPES):
        order.append("iso-2022-jp")  # JIS text under another label or none
    if eight_bit and name in SEVEN_BIT:  # the label is wrong: UTF-8, or what the label's family hides
        order += ["utf-8", *FAMILY.get(_family(name), ())]
    elif name:
        if name in WEAK:
            order.append("utf-8")
        order.append("iso-2022-jp" if name in ISO2022_JP else codec_for(name))
        if name in WEAK:
            order.append("latin-1")  # the label, read as it says
    order.append("utf-8")
    order.extend(codec_for(h) for h in hints)
    seen: set[str] = set()
    return [c for c in order if c and not (c in seen or seen.add(c))]


def _family(name: str) -> str:
    if name in ISO2022_JP:
        return "jp"
    return "kr" if "kr" in name else "cn" if ("cn" in name or "hz" in name) else ""


def _try(data: bytes, codec: str) -> str | None:
    try:
        if codec == "iso-2022-jp":
            return decode_iso2022jp(data)
        text = data.decode(codec)
    except (LookupError, UnicodeDecodeError, ValueError):
        return None
    if "\x1b" in text and _ISO2022_ESCAPE.search(text):
        return None  # designations of another 7-bit code: not this charset
    return text


def _guess(data: bytes) -> str | None:
    """charset-normalizer's best reading among the usual charsets, decoded in full."""
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - installed with requests
        return None
    try:
        best = from_bytes(data[:GUESS_BYTES], cp_isolation=GUESSABLE).best()
    except Exception:  # noqa: BLE001 - a detector failure only means no guess
        return None
    if best is None or not best.encoding:
        return None
    if best.encoding in CJK:
        return _best_cjk(data, best.encoding)
    return _try(data, best.encoding)


# The multi-byte codecs and the common core each extends: real text stays in the core, the same bytes
# read with a wrong codec land in rare extension characters (Shift_JIS kana read as cp949 give
# UHC-only syllables). charset-normalizer alone cannot tell them apart in short texts.
CJK = {"cp932": "shift_jis", "euc_jp": "euc_jp", "gb18030": "gb2312", "big5hkscs": "big5", "cp949": "euc_kr"}


# Legal but rare in real text, and what bytes of another code turn into: half-width katakana
# (single bytes read as cp932) and stand-alone Korean jamo (kana read as EUC-KR).
_RARE = re.compile("[\uff61-\uff9f\u3131-\u318e]")


def _best_cjk(data: bytes, first: str) -> str | None:
    """The reading with most characters in its code's common core; ties go to the detector's pick."""
    best, best_score = None, -1.0
    for codec in sorted(CJK, key=lambda c: c != first):
        core = CJK[codec]
        text = _try(data, codec)
        if text is None:
            continue
        wide = [ch for ch in text if ord(ch) > 0x7F]
        common = sum(1 for ch in wide if not _RARE.match(ch) and _encodes(ch, core))
        score = common / len(wide) if wide else 0.0
        if score > best_score:
            best, best_score = text, score
    return best


def _encodes(ch: str, codec: str) -> bool:
    try:
        return len(ch.encode(codec)) <= 2  # CPython's euc_kr spells rare syllables as 8-byte sequences
    except UnicodeEncodeError:
        return False


def clean(text: str) -> str:
    """No control characters, escape sequences, lone surrogates or NUL; line breaks as \\n."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x1b" in text:
        text = _ESCAPE_SEQUENCE.sub("", text)
    return _CONTROL.sub("", text)


# --- ISO-2022-JP with the NEC and IBM extensions ---------------------------------------------------

_MODES = ((b"\x1b(B", "ascii"), (b"\x1b(J", "ascii"), (b"\x1b(H", "ascii"), (b"\x1b(I", "kana"),
          (b"\x1b$@", "jis"), (b"\x1b$B", "jis"), (b"\x1b&@", None))


def decode_iso2022jp(data: bytes) -> str:
    """ISO-2022-JP as Japanese mailers send it: JIS X 0208 pairs go through Shift_JIS to cp932.

    Python's codecs stop at the NEC row-13 characters (①, №, ㈱) and the NEC-selected IBM
    characters; cp932 knows them at the Shift_JIS positions the JIS pairs map to. Text without them
    is read by Python's own codec, so standard text keeps the standard mapping.
    """
    try:
        return data.decode("iso2022_jp")
    except UnicodeDecodeError:
        pass
    out = bytearray()
    mode, i, size = "ascii", 0, len(data)
    while i < size:
        byte = data[i]
        if byte == 0x1B:
            for sequence, new_mode in _MODES:
                if data.startswith(sequence, i):
                    mode = new_mode or mode
                    i += len(sequence)
                    break
            else:
                raise UnicodeDecodeError("iso-2022-jp", data, i, i + 1, "unknown escape sequence")
            continue
        if byte in (0x0E, 0x0F):  # SO/SI: half-width katakana in the 7-bit variant
            mode = "kana" if byte == 0x0E else "ascii"
            i += 1
            continue
        if byte >= 0x80:
            raise UnicodeDecodeError("iso-2022-jp", data, i, i + 1, "8-bit byte in a 7-bit code")
        if byte <= 0x20 or mode == "ascii":  # line breaks and spaces pass in every mode
            out.append(byte)
            i += 1
        elif mode == "kana":
            if byte > 0x5F:
                raise UnicodeDecodeError("iso-2022-jp", data, i, i + 1, "not a katakana byte")
            out.append(byte + 0x80)
            i += 1
        else:
            if i + 1 >= size or not 0x21 <= data[i + 1] <= 0x7E or byte == 0x7F:
                raise UnicodeDecodeError("iso-2022-jp", data, i, i + 1, "incomplete JIS pair")
            out += jis_to_sjis(byte, data[i + 1])
            i += 2
    return out.decode("cp932")


def jis_to_sjis(j1: int, j2: int) -> bytes:
    """One JIS X 0208 row/cell pair (0x21..0x7E each) at its Shift_JIS position."""
    s1 = (j1 + 1) // 2 + 0x70
    if s1 >= 0xA0:
        s1 += 0x40
    if j1 % 2:
        s2 = j2 + 0x1F + (1 if j2 >= 0x60 else 0)
    else:
        s2 = j2 + 0x7E
    return bytes((s1, s2))
