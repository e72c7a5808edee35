"""`;TAG;` configuration: whole tag replaced, values literal, unknown tags kept."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from sscontainer.errors import GenerationError, SSConfigError
from sscontainer.generation.tags import UnmatchedTagWarning, configure_file, configure_text


def test_whole_tag_is_replaced() -> None:
    text, unmatched = configure_text("THERMO = ;THERMO;\n", {"THERMO": "1"})
    assert text == "THERMO = 1\n"
    assert unmatched == []


@pytest.mark.parametrize(
    "value",
    [
        "a;b;c",
        "$(rm -rf /)",
        "`id`",
        "'single' \"double\"",
        "line1\nline2",
        "\\1 \\g<0> \\n",
        "ünïcødé ✓ 温度",
        ";THERMO;",
        "",
    ],
)
def test_values_are_written_literally(value: str) -> None:
    text, _ = configure_text("x=;THERMO; y=;OTHER;", {"THERMO": value, "OTHER": "2"})
    assert text == f"x={value} y=2"


def test_value_holding_a_tag_is_not_reconfigured() -> None:
    text, _ = configure_text(";A; ;B;", {"A": ";B;", "B": "b"})
    assert text == ";B; b"


def test_unknown_tag_left_and_reported() -> None:
    text, unmatched = configure_text("a=;A; b=;NOPE;", {"A": "1"})
    assert text == "a=1 b=;NOPE;"
    assert unmatched == ["NOPE"]


def test_custom_tag() -> None:
    text, _ = configure_text("T=@@T@@ keep ;T;", {"T": "5"}, tag="@@")
    assert text == "T=5 keep ;T;"


@pytest.mark.parametrize("tag", ["", " ", "ab", "1"])
def test_bad_tag_rejected(tag: str) -> None:
    with pytest.raises(SSConfigError):
        configure_text("x", {}, tag=tag)


def test_longer_param_name_wins() -> None:
    text, _ = configure_text(";AB; ;A;", {"A": "1", "AB": "2"})
    assert text == "2 1"


def test_configure_file_warns_and_keeps_newlines(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"A = ;A;\r\nB = ;B;\r\n")
    dst = tmp_path / "out.txt"
    with pytest.warns(UnmatchedTagWarning, match=";B;"):
        unmatched = configure_file(str(src), str(dst), {"A": "7"})
    assert unmatched == ["B"]
    assert dst.read_bytes() == b"A = 7\r\nB = ;B;\r\n"


def test_binary_file_gives_clear_error(tmp_path: Path) -> None:
    src = tmp_path / "blob.bin"
    src.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(GenerationError, match="to_copy"):
        configure_file(str(src), str(tmp_path / "o"), {"A": "1"})


def test_no_warning_when_every_tag_matches(tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("A=;A;")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        configure_file(str(src), str(tmp_path / "o.txt"), {"A": "1"})
