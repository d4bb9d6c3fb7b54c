"""PL3xx: the loader reports unreadable and malformed files with a position, never a traceback."""

from __future__ import annotations

import json
import os

import pytest

from conftest import codes_for


def _annotation(root):
    return root / "annotations" / "person_keypoints_train.json"


def test_clean_file_parses(make_dataset, cli):
    assert not {"PL301", "PL302", "PL303", "PL304"} & codes_for(cli, make_dataset())


def test_pl301_directory_named_like_the_annotation_file(make_dataset, cli):
    root = make_dataset()
    _annotation(root).unlink()
    _annotation(root).mkdir()
    result = cli("check", root, "--format", "json")
    [d] = [d for d in result.json() if d["code"] == "PL301"]
    assert "directory" in str(d["message"])


# Permission denied (needs a non-root process): tests/test_adversarial.py, via setpriv.


def test_pl301_over_the_size_bound(make_dataset, cli, tmp_path):
    root = make_dataset()
    (tmp_path / "poselint.toml").write_text("max_annotation_bytes = 100\n")
    result = cli("check", root, "--format", "json")
    assert any(
        d["code"] == "PL301" and "max_annotation_bytes" in str(d["message"]) for d in result.json()
    )


def test_pl302_bom_is_reported_and_content_still_checked(make_dataset, cli):
    root = make_dataset()
    data = _annotation(root).read_bytes()
    _annotation(root).write_bytes(b"\xef\xbb\xbf" + data)
    result = cli("check", root, "--format", "json")
    [d] = [d for d in result.json() if d["code"] == "PL302"]
    assert d["fixable"] is True
    assert "PL303" not in result.codes()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b'{"images": [', "line 1"),
        (b'{"a": 1,\n "b": NaN}', "NaN/Infinity"),
        (b'{"a": -Infinity}', "NaN/Infinity"),
        (b"[" * 5000 + b"]" * 5000, "nesting deeper"),
        (b'{"a": "\xff"}', "UTF-8"),
    ],
)
def test_pl303_invalid_json_with_position(make_dataset, cli, content, expected):
    root = make_dataset()
    _annotation(root).write_bytes(content)
    result = cli("check", root, "--format", "json")
    [d] = [d for d in result.json() if d["code"] == "PL303"]
    assert expected in str(d["message"]) and "line" in str(d["message"])
    assert d["path"].endswith("person_keypoints_train.json")


def test_pl303_position_is_line_and_column(make_dataset, cli):
    root = make_dataset()
    _annotation(root).write_text('{\n  "images": [],\n  "x": NaN\n}')
    [d] = [d for d in cli("check", root, "--format", "json").json() if d["code"] == "PL303"]
    assert "line 3 column 8" in str(d["message"])


@pytest.mark.parametrize("value", [[], "text", 3, None])
def test_pl304_top_level_not_object(make_dataset, cli, value):
    root = make_dataset()
    _annotation(root).write_text(json.dumps(value))
    result = cli("check", root, "--format", "json")
    [d] = [d for d in result.json() if d["code"] == "PL304"]
    assert d["pointer"] == ""


def test_pl301_fifo_named_like_the_annotation_file_does_not_hang(make_dataset, cli):
    root = make_dataset()
    _annotation(root).unlink()
    os.mkfifo(_annotation(root))
    [d] = [d for d in cli("check", root, "--format", "json").json() if d["code"] == "PL301"]
    assert "not a regular file" in str(d["message"])


def test_pl305_duplicate_keys_are_reported_with_the_object_pointer(make_dataset, cli):
    root = make_dataset()
    text = _annotation(root).read_text()
    doc = json.loads(text)
    first = json.dumps(doc["annotations"][0])
    duplicated = first[:-1] + ', "iscrowd": 1, "num_keypoints": 9}'
    _annotation(root).write_text(text.replace(first, duplicated, 1))
    found = [d for d in cli("check", root, "--format", "json").json() if d["code"] == "PL305"]
    assert {(d["pointer"], str(d["message"]).split("'")[1]) for d in found} == {
        ("/annotations/0", "iscrowd"),
        ("/annotations/0", "num_keypoints"),
    }


def test_pl305_clean_file_and_size_bound(make_dataset, cli, tmp_path):
    root = make_dataset()
    assert "PL305" not in codes_for(cli, root)
    _annotation(root).write_text('{"images": [], "images": []}')
    assert "PL305" in codes_for(cli, root)
    (tmp_path / "poselint.toml").write_text("duplicate_key_check_bytes = 10\n")
    assert "PL305" not in codes_for(cli, root)
