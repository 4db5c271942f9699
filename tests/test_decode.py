from __future__ import annotations

import codecs

import pytest

from cleancorpus.document import DocumentError
from cleancorpus.stages.decode import decode
from conftest import SAMPLE, SEEDS


@pytest.fixture(scope="module")
def dcfg(cfg):
    return cfg["decode"]


def original_of(variant):
    return SAMPLE / (variant.name.split(".")[0] + ".txt")


VARIANTS = sorted((SAMPLE / "encodings").iterdir())


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda p: p.name)
def test_every_encoding_variant_decodes_to_its_utf8_original(variant, dcfg):
    expected = original_of(variant).read_text(encoding="utf-8")
    result = decode(variant.read_bytes(), dcfg)
    assert result.text == expected
    assert not result.changes


@pytest.mark.parametrize("seed", SEEDS, ids=lambda p: p.name[:3])
@pytest.mark.parametrize(
    "encoding", ["utf-8", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-8-sig"]
)
def test_seed_in_each_encoding(seed, encoding, dcfg):
    text = seed.read_text(encoding="utf-8")
    assert decode(text.encode(encoding), dcfg).text == text


def test_gb_detection_promoted_to_gb18030(dcfg):
    # 30 bytes of GBK: chardet calls such text GB2312/GBK; we decode it with the superset.
    snippet = "会议明确了今年要着重抓好的工作"
    raw = snippet.encode("gbk")
    assert len(raw) == 30
    result = decode(raw, dcfg)
    assert result.text == snippet
    assert result.encoding == "gb18030"


def test_gbk_only_character_decodes(dcfg):
    # 镕 and 堃 are in GBK but not in GB2312: a GB2312 decoder would fail on them.
    text = "朱镕基总理和王堃同志出席会议并讲话，会议强调要加快信息通信业发展。"
    assert decode(text.encode("gbk"), dcfg).text == text


def test_big5_promoted_to_big5hkscs(dcfg):
    text = (SAMPLE / "002_8a6ffa770e45669e.txt").read_text(encoding="utf-8")
    result = decode(text.encode("big5hkscs"), dcfg)
    assert result.text == text
    assert result.encoding == "big5hkscs"


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030", "utf-16-le", "big5hkscs"])
def test_truncated_final_character_is_dropped_and_counted(encoding, dcfg):
    text = "全省信息通信工作电视电话会议上获悉，主要预期目标是固定资产投资超过140亿元。会議"
    if encoding == "big5hkscs":
        text = "全省資訊通信工作電視電話會議上獲悉，主要預期目標是固定資產投資超過140億元。會議"
    raw = text.encode(encoding)
    cut = raw[:-1]
    result = decode(cut, dcfg)
    assert result.text == text[:-1]
    assert result.changes["decode.truncated"] == 1


def test_truncated_utf8_bom_file(dcfg):
    raw = codecs.BOM_UTF8 + "会议明确".encode() + "了".encode()[:2]
    result = decode(raw, dcfg)
    assert result.text == "会议明确"
    assert result.encoding == "utf-8-sig"


def test_empty_is_empty_text(dcfg):
    assert decode(b"", dcfg).text == ""


@pytest.mark.parametrize(
    "raw",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        b"abc\x00def\x00ghi",
        bytes(range(32)) * 20,
    ],
    ids=["png", "nul-bytes", "controls"],
)
def test_binary_is_an_error(raw, dcfg):
    with pytest.raises(DocumentError, match="binary"):
        decode(raw, dcfg)


def test_english_and_ascii(dcfg):
    result = decode(b"Plain ASCII text.\n", dcfg)
    assert (result.text, result.encoding) == ("Plain ASCII text.\n", "ascii")


def test_cp1251_russian_is_not_forced_to_chinese(dcfg):
    text = "Правительство Российской Федерации приняло постановление о развитии связи. " * 4
    result = decode(text.encode("cp1251"), dcfg)
    assert result.text == text


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le"])
def test_bomless_wide_chinese_is_not_binary(codec, dcfg):
    # Found by the encoding-invariance property: "，" in UTF-16-LE is 0C FF, which chardet
    # took for a binary file.
    text = "2021年，在工信部的坚强领导下，山西省通信管理局坚持以习近平新时代中国特色社会主义思想为指导。\n"
    result = decode(text.encode(codec), dcfg)
    assert (result.text, result.encoding) == (text, codec)


def test_gbk_text_is_not_taken_for_bomless_utf16(dcfg):
    text = "会议明确了今年要着重抓好的几方面工作全力支撑京津冀协同发展"
    assert decode(text.encode("gb18030"), dcfg).text == text


SEVEN_BIT_TEXTS = {
    "hz": "国务院常务会议召开，研究部署进一步优化营商环境的政策措施。会议指出，要坚持稳中求进。\n",
    "utf-7": "国务院常务会议召开，研究部署进一步优化营商环境的政策措施。\n",
    "iso2022_jp": "政府は水曜日、医療制度の改革を目的とした法案を提出した。\n",
    "iso2022_kr": "정부는 수요일 의료 제도 개혁을 위한 법안을 제출했다.\n",
}


@pytest.mark.parametrize("codec", sorted(SEVEN_BIT_TEXTS))
def test_seven_bit_encodings_are_not_taken_for_ascii(codec, dcfg):
    """Their bytes are all ASCII, so strict UTF-8 accepts them: chardet names them instead."""
    text = SEVEN_BIT_TEXTS[codec]
    result = decode(text.encode(codec), dcfg)
    assert (result.text, result.encoding) == (text, codec)


@pytest.mark.parametrize(
    "text",
    [
        "Hello \x1b[31mred\x1b[0m terminal line\n",
        "C++ and a+bcd-e, 1+2-3, call +8610 1234 5678 or +abc-\n",
        "a brace ~{ in plain text }\n",
    ],
)
def test_ascii_with_a_seven_bit_mark_stays_ascii(text, dcfg):
    result = decode(text.encode("ascii"), dcfg)
    assert (result.text, result.encoding) == (text, "ascii")


@pytest.mark.parametrize(
    ("text", "codec"),
    [
        (
            "어제 오후 서울의 한 초등학교에서 지진 대피 훈련이 실시되었습니다.\n"
            "학생들은 안내 방송을 듣자마자 책상 아래로 들어가 머리를 보호했습니다.\n",
            "johab",
        ),
        (
            "Εκπρόσωπος της πυροσβεστικής υπηρεσίας δήλωσε ότι τα παιδιά ενήργησαν με αυτοπεποίθηση.\n",
            "cp875",
        ),
    ],
)
def test_a_chinese_guess_with_no_confidence_is_not_taken_on_the_fast_path(text, codec, dcfg):
    """Asked about web encodings only, chardet said GB18030 (zh) at 0.01 for these, and
    GB18030 decodes nearly anything: the full detector names them."""
    assert decode(text.encode(codec), dcfg).text == text


def _big(middle: str, codec: str) -> tuple[bytes, str]:
    line = "000000 | Yesterday afternoon a primary school held a fire evacuation drill.\n"
    text = line * 800 + middle + line * 800  # non-ASCII only between the sample's head and tail
    return text.encode(codec), text


@pytest.mark.parametrize(
    ("middle", "codec"),
    [
        ("Les élèves ont quitté l'école en silence. Très bien, a dit le directeur.\n", "cp1252"),
        ("Правительство приняло постановление о развитии связи.\n", "cp1251"),
        ("会议强调，要把各项工作落到实处，确保取得实效。\n", "gb18030"),
        ("會議強調，要把各項工作落到實處，確保取得實效。\n", "big5"),
    ],
)
def test_a_big_file_whose_sample_is_ascii_is_decoded_by_what_its_middle_holds(middle, codec, dcfg):
    """Only the head and tail go to chardet: 'ascii' failed on the whole file, and the
    UTF-16 fallback, which decodes any even-length input, made CJK-looking noise of it."""
    raw, text = _big(middle, codec)
    assert len(raw) > dcfg["detect_sample_bytes"]
    assert decode(raw, dcfg).text == text


def test_a_big_utf7_file_with_its_marks_only_in_the_middle(dcfg):
    raw, text = _big("国务院常务会议召开，研究部署进一步优化营商环境的政策措施。\n", "utf-7")
    assert decode(raw, dcfg).text == text


def test_the_utf16_fallback_takes_only_what_reads_as_text(dcfg, monkeypatch):
    """Any even-length input decodes as UTF-16: as a fallback it must read as text."""
    import cleancorpus.stages.decode as decode_mod

    monkeypatch.setattr(decode_mod, "_detect", lambda sample, cfg: {"encoding": "ascii"})
    noise = bytes([0x80, 0xE0, 0xFF, 0xE1]) * 40  # not GB18030 nor Big5-HKSCS; UTF-16: U+E080...
    with pytest.raises(DocumentError, match="undecodable"):
        decode(noise, dcfg)
    text = "会议强调，要把各项工作落到实处。"
    assert decode(text.encode("utf-16-le"), dcfg).text == text


_BODY = "为深入贯彻落实党中央、国务院决策部署，进一步优化营商环境，经国务院同意，现通知如下。\n"


@pytest.mark.parametrize("codec", ["gbk", "big5"])
def test_a_utf8_page_with_a_legacy_line_is_decoded_line_by_line(codec, dcfg):
    # A footer from an older template, in GBK (or Big5), under a UTF-8 article.
    footer = "版权所有：某某市人民政府办公室 主办单位：某某市人民政府办公室\n"
    if codec == "big5":
        footer = "版權所有：某某市人民政府辦公室 主辦單位：某某市人民政府辦公室\n"
    result = decode((_BODY * 3).encode("utf-8") + footer.encode(codec), dcfg)
    assert result.text == _BODY * 3 + footer
    assert result.encoding.startswith("utf-8+")
    assert result.changes == {"decode.mixed_lines": 1}


def test_a_damaged_utf8_line_gets_replacement_characters_not_a_legacy_reading(dcfg):
    # A multibyte character cut in the middle of a line (not at the end of the file).
    raw = _BODY.encode("utf-8") * 2 + b"broken \xe8\x90 byte\n" + _BODY.encode("utf-8")
    result = decode(raw, dcfg)
    assert result.text == _BODY * 2 + "broken \ufffd byte\n" + _BODY
    assert result.encoding == "utf-8"
    assert result.changes == {"decode.replaced_lines": 1}


def test_a_gbk_page_with_lines_that_happen_to_be_valid_utf8_stays_gbk(dcfg):
    # "一" in GBK is D2 BB, valid UTF-8 ("һ"): a short line alone does not make the page UTF-8.
    text = "一\n" * 5 + _BODY * 3
    result = decode(text.encode("gbk"), dcfg)
    assert result.text == text
    assert result.encoding == "gb18030"


def test_a_legacy_character_at_the_very_end_is_not_a_cut_off_utf8_one(dcfg):
    # 年 in GBK is C4 EA: an invalid UTF-8 sequence, not an unfinished one; it was dropped
    # as "truncated" and the page read as UTF-8.
    result = decode("<p>2022年".encode("gbk"), dcfg)
    assert (result.text, result.encoding, result.changes) == ("<p>2022年", "gb18030", {})


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
@pytest.mark.parametrize(
    "text",
    [
        "(一)加强组织领导。",
        "企业宽带、专线平均资费较2020年年底分别下降57.38%和42.37%。",
        "当前位置: 肇庆市人民政府>肇庆市人民政府 浏览字体:【",
    ],
)
def test_bomless_utf16_gets_its_byte_order_right(codec, text, dcfg):
    # chardet names Chinese UTF-16-LE with some ASCII in it UTF-16-BE, at 0.95.
    assert decode(text.encode(codec), dcfg).text == text


def test_a_reading_with_control_characters_gives_way_to_the_next_candidate(dcfg):
    # Four hanzi in UTF-16-LE, no ASCII: chardet says CP932, whose reading has a control
    # character; the UTF-16 fallback reads it.
    assert decode("延伸阅读".encode("utf-16-le"), dcfg).text == "延伸阅读"
