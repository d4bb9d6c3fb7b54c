"""positions.locate against a plain tokenizer, on pretty-printed, compact and CVAT files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from builders import SAMPLES, clean_docs, coco, image, person
from poselint.diagnostics import json_pointer
from poselint.report.positions import locate

_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?")


def reference(text: str) -> dict[str, tuple[int, int]]:
    """Every value's pointer -> (line, column), by a recursive tokenizer over the text
    (the last of duplicate keys wins, as in a parse)."""
    out: dict[str, tuple[int, int]] = {}
    i = 0

    def space() -> None:
        nonlocal i
        while i < len(text) and text[i] in " \t\r\n":
            i += 1

    def string() -> str:
        nonlocal i
        end = i + 1
        while text[end] != '"':
            end += 2 if text[end] == "\\" else 1
        value: str = json.loads(text[i : end + 1])
        i = end + 1
        return value

    def value(pointer: str) -> None:
        nonlocal i
        space()
        line = text.count("\n", 0, i) + 1
        out[pointer] = (line, i - (text.rfind("\n", 0, i) + 1) + 1)
        if text[i] == "{":
            i += 1
            space()
            while text[i] != "}":
                key = string()
                space()
                i += 1  # ':'
                value(pointer + json_pointer(key))
                space()
                if text[i] == ",":
                    i += 1
                    space()
            i += 1
        elif text[i] == "[":
            i += 1
            space()
            n = 0
            while text[i] != "]":
                value(pointer + json_pointer(n))
                n += 1
                space()
                if text[i] == ",":
                    i += 1
                    space()
            i += 1
        elif text[i] == '"':
            string()
        else:
            match = _NUMBER.match(text, i) or re.compile("true|false|null").match(text, i)
            assert match
            i = match.end()

    value("")
    return out


def _hostile() -> dict[str, Any]:
    doc = coco(
        [image(1, 'a "quoted" [name] {x}, y: z\\.jpg'), image(2, "é/ü~1 ünïcödé.jpg")],
        [person(1, 1, [1, 2, 2, 3, 4, 1, 0, 0, 0, 5, 6, 2]), person(2, 2, [7, 8, 2] * 4)],
    )
    doc["info"] = {"a/b": {"~t": [[], {}, [{}]]}, 'q\\"': "\\\\", "é": ["}", "]", ","]}
    return doc


SAMPLE = (
    SAMPLES
    / "datumaro-export"
    / "cvat-ai-datumaro-fork"
    / "annotations"
    / "person_keypoints_Train.json"
)


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(clean_docs()["train"], indent=2),
        json.dumps(clean_docs()["train"], separators=(",", ":")),
        json.dumps(_hostile(), indent=4, ensure_ascii=False),
        json.dumps(_hostile(), ensure_ascii=False),
        "\n\n  " + json.dumps(_hostile(), indent="\t") + "\n",
        SAMPLE.read_text(encoding="utf-8"),
    ],
    ids=["pretty", "compact", "hostile-pretty", "hostile-compact", "tabs", "cvat-export"],
)
def test_locate_agrees_with_a_plain_tokenizer_on_every_value(text: str) -> None:
    expected = reference(text)
    assert len(expected) > 30
    assert locate(text.encode(), expected) == expected


def test_a_pointer_past_the_document_lands_on_the_deepest_value_it_names() -> None:
    text = '{"annotations": [\n  {"id": 1,\n   "keypoints": [1, 2, 2]}\n]}'
    found = locate(
        text.encode(),
        ["/annotations/0/bbox", "/annotations/1", "/annotations/0/keypoints/7", "/nope"],
    )
    assert found == {
        "/annotations/0/bbox": (2, 3),
        "/annotations/1": (1, 17),
        "/annotations/0/keypoints/7": (3, 17),
        "/nope": (1, 1),
    }


def test_the_real_line_of_a_pointer_in_a_pretty_printed_file(tmp_path: Path) -> None:
    doc = clean_docs()["train"]
    text = json.dumps(doc, indent=2)
    line, column = locate(text.encode(), ["/annotations/1/keypoints/4"])[
        "/annotations/1/keypoints/4"
    ]
    lines = text.splitlines()
    # indent=2 writes each number of the keypoints list on a line of its own
    assert lines[line - 1].strip().rstrip(",") == json.dumps(doc["annotations"][1]["keypoints"][4])
    assert column == len(lines[line - 1]) - len(lines[line - 1].lstrip()) + 1


def test_strings_and_escapes_across_the_scan_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import poselint.report.positions

    text = json.dumps(_hostile(), ensure_ascii=False)
    expected = reference(text)
    for chunk in (1, 2, 3, 7, 64):
        monkeypatch.setattr(poselint.report.positions, "_CHUNK", chunk)
        assert locate(text.encode(), expected) == expected
