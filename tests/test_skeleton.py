"""The skeleton contract: `poselint skeleton init/export` on a copy of example-repo, and PL701 /
PL702 naming exactly what changed in a split."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from builders import PERSON, build_dataset, clean_docs, coco, image, person
from poselint.contract import COCO_KEYPOINTS, side_of

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "example-repo"
ANN = "annotations/person_keypoints_{}.json"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return shutil.copytree(EXAMPLE, tmp_path / "example")


def _edit(root: Path, split: str, change: Any) -> None:
    path = root / ANN.format(split)
    doc = json.loads(path.read_text())
    change(doc["categories"][0])
    path.write_text(json.dumps(doc))


def _pl7(cli: Any, root: Path, cwd: Path) -> list[tuple[str, str, str]]:
    result = cli("check", root, "--format", "json", "--select", "PL7", cwd=cwd)
    return sorted((d["code"], d["pointer"] or "", d["message"]) for d in result.json())


def test_init_writes_only_the_skeleton_table(repo: Path, cli: Any) -> None:
    before = (repo / "pyproject.toml").read_text()
    result = cli("skeleton", "init", cwd=repo)
    assert result.code == 0, result
    assert "pinned 'person': 4 keypoints, 3 edges, 1 flip pairs" in result.out
    after = (repo / "pyproject.toml").read_text()
    assert after.startswith(before)  # every byte of the user's file kept
    assert after[len(before) :] == (
        '\n[tool.poselint.skeleton."person"]\n'
        'keypoints = ["nose", "left_eye", "right_eye", "left_ear"]\n'
        'edges = [["left_eye", "left_ear"], ["nose", "left_eye"], ["nose", "right_eye"]]\n'
        'flip_pairs = [["left_eye", "right_eye"]]\n'
    )
    # again: the table is replaced, not appended twice; the rest stays byte-identical
    (repo / "pyproject.toml").write_text(
        after + "\n# other tools\n[tool.other]\nkeep = 1  # comment\n"
    )
    assert cli("skeleton", "init", cwd=repo).code == 0
    again = (repo / "pyproject.toml").read_text()
    assert again == after + "\n# other tools\n[tool.other]\nkeep = 1  # comment\n"
    assert _pl7(cli, repo / "data/pose", repo) == []


def test_init_writes_a_named_file(repo: Path, cli: Any) -> None:
    before = (repo / "pyproject.toml").read_text()
    result = cli("skeleton", "init", "data/pose", "--output", "skeleton.toml", cwd=repo)
    assert result.code == 0, result
    assert (repo / "pyproject.toml").read_text() == before
    assert '[skeleton."person"]' in (repo / "skeleton.toml").read_text()
    with (repo / "pyproject.toml").open("a") as f:
        f.write('skeleton = "skeleton.toml"\n')  # under [tool.poselint], the last table
    _edit(repo / "data/pose", "val", lambda c: c["keypoints"].reverse())
    found = _pl7(cli, repo / "data/pose", repo)
    assert [f[0] for f in found] == ["PL701"]
    assert "reordered" in found[0][2]


def test_init_refuses_splits_that_disagree(repo: Path, cli: Any) -> None:
    _edit(repo / "data/pose", "val", lambda c: c["keypoints"].__setitem__(3, "left_ear_tip"))
    before = (repo / "pyproject.toml").read_text()
    result = cli("skeleton", "init", cwd=repo)
    assert result.code == 2
    assert (
        "splits train and val disagree on category 'person': keypoint 3 renamed: 'left_ear' in "
        "the contract, 'left_ear_tip' here" in result.err
    )
    assert (repo / "pyproject.toml").read_text() == before


@pytest.mark.parametrize(
    ("change", "messages"),
    [
        (
            lambda c: c["keypoints"].__setitem__(3, "l_ear"),
            ["category 'person': keypoint 3 renamed: 'left_ear' in the contract, 'l_ear' here"],
        ),
        (
            lambda c: c["keypoints"].__setitem__(slice(1, 3), ["right_eye", "left_eye"]),
            [
                "category 'person': keypoints reordered: 'right_eye' is keypoint 1, not 2; "
                "'left_eye' is keypoint 2, not 1"
            ],
        ),
        (
            lambda c: c["keypoints"].append("right_ear"),
            ["category 'person': keypoint 4 'right_ear' added (not in the contract)"],
        ),
        (
            lambda c: (c["keypoints"].pop(), c.__setitem__("skeleton", [[1, 2], [1, 3]])),
            ["category 'person': keypoint 3 'left_ear' of the contract removed"],
        ),
        (
            lambda c: c.__setitem__("skeleton", [[2, 4], [1, 2], [3, 4]]),
            [
                "category 'person': edge ['nose', 'right_eye'] of the contract removed",
                "category 'person': edge ['right_eye', 'left_ear'] added (not in the contract)",
            ],
        ),
    ],
    ids=["renamed", "reordered", "added", "removed", "edge"],
)
def test_contract_violation_names_what_changed(
    repo: Path, cli: Any, change: Any, messages: list[str]
) -> None:
    assert cli("skeleton", "init", cwd=repo).code == 0
    _edit(repo / "data/pose", "val", change)
    result = cli("check", "data/pose", "--format", "json", "--select", "PL7", cwd=repo)
    assert result.code == 1
    found = [d for d in result.json() if d["code"] == "PL701"]
    assert sorted(d["message"] for d in found) == sorted(messages)
    assert {d["path"] for d in found} == {"data/pose/" + ANN.format("val")}
    assert {d["severity"] for d in found} == {"error"}
    assert {d["pointer"] for d in found} <= {"/categories/0/keypoints", "/categories/0/skeleton"}


def test_edge_direction_is_not_a_change(repo: Path, cli: Any) -> None:
    assert cli("skeleton", "init", cwd=repo).code == 0
    _edit(repo / "data/pose", "val", lambda c: c.__setitem__("skeleton", [[4, 2], [1, 2], [3, 1]]))
    assert _pl7(cli, repo / "data/pose", repo) == []


def test_flip_pairs_inconsistent(repo: Path, cli: Any) -> None:
    for split in ("train", "val"):
        _edit(repo / "data/pose", split, lambda c: c["keypoints"].__setitem__(3, "right_ear"))
    assert cli("skeleton", "init", cwd=repo).code == 0
    text = (repo / "pyproject.toml").read_text()
    assert 'flip_pairs = [["left_eye", "right_eye"]]' in text
    (repo / "pyproject.toml").write_text(
        text.replace('[["left_eye", "right_eye"]]', '[["left_eye", "right_ear"]]')
    )
    result = cli("check", "data/pose", "--format", "json", "--select", "PL702", cwd=repo)
    assert result.code == 1
    assert sorted((d["message"], d["path"]) for d in result.json()) == [
        (
            "skeleton contract 'person': flip pair ['left_eye', 'right_ear'] pairs points whose "
            "names do not mirror each other",
            "pyproject.toml",
        ),
    ]
    (repo / "pyproject.toml").write_text(text.replace('[["left_eye", "right_eye"]]', "[]"))
    result = cli("check", "data/pose", "--format", "json", "--select", "PL702", cwd=repo)
    assert [d["message"] for d in result.json()] == [
        "skeleton contract 'person': 'left_eye' and 'right_eye' mirror each other but are not "
        "a flip pair: a horizontal-flip augmentation would keep them on the wrong sides"
    ]


def test_bad_contract_is_a_config_error(repo: Path, cli: Any) -> None:
    with (repo / "pyproject.toml").open("a") as f:
        f.write('\n[tool.poselint.skeleton.person]\nkeypoints = ["a", "b"]\nedges = [["a", "c"]]\n')
    result = cli("check", "data/pose", cwd=repo)
    assert result.code == 2
    assert "skeleton contract 'person': 'edges': ['a', 'c'] names 'c', which is not a keypoint" in (
        result.err
    )


def _coco_category() -> dict[str, Any]:
    cat = copy.deepcopy(PERSON)
    cat["keypoints"] = list(COCO_KEYPOINTS)
    cat["skeleton"] = [[16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13]]
    return cat


def test_export_ultralytics_matches_the_contract(tmp_path: Path, cli: Any) -> None:
    _coco_contract(tmp_path, cli)
    result = cli("skeleton", "export", "--format", "ultralytics", cwd=tmp_path)
    assert result.code == 0, result
    cfg = yaml.safe_load(result.out)
    names = cfg["kpt_names"][0]
    assert names == list(COCO_KEYPOINTS)
    assert cfg["kpt_shape"] == [len(names), 3]
    flip = cfg["flip_idx"]
    assert sorted(flip) == list(range(len(names)))  # a permutation
    assert all(flip[flip[i]] == i for i in range(len(flip)))  # an involution
    for i, j in enumerate(flip):  # matching the pairs: left_x <-> right_x, others fixed
        side = side_of(names[i])
        if side is None:
            assert j == i
        else:
            assert side_of(names[j]) == ("right" if side[0] == "left" else "left", side[1])
    assert flip == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]

    mm = cli("skeleton", "export", "--format", "mmpose", cwd=tmp_path)
    assert "0: dict(name='nose', id=0, color=[255, 128, 0], type='upper', swap='')," in mm.out
    assert "sigmas=[0.026, 0.025, 0.025, 0.035" in mm.out
    d2 = cli("skeleton", "export", "--format", "detectron2", cwd=tmp_path)
    assert "keypoint_flip_map=(('left_eye', 'right_eye'), ('left_ear', 'right_ear')," in d2.out


def _coco_contract(tmp_path: Path, cli: Any) -> Path:
    kp = [float(v) for k in range(17) for v in (10 + k, 10 + k, 2)]
    docs = {
        split: coco([image(1, "img_001.jpg")], [person(1, 1, kp)], [_coco_category()])
        for split in ("train", "val")
    }
    root = build_dataset(tmp_path / "data", docs)
    (tmp_path / "poselint.toml").write_text('splits = ["train", "val"]\n')
    assert cli("skeleton", "init", root, cwd=tmp_path).code == 0
    return root


def test_export_mmpose_reads_as_mmpose_parses_dataset_info(tmp_path: Path, cli: Any) -> None:
    """The printed config is Python that runs as-is, and holds what mmpose's
    parse_pose_metainfo reads: every keypoint_info entry's name/id/swap, skeleton links by
    name, one joint weight and sigma per keypoint; flip_indices is what the swaps give."""
    _coco_contract(tmp_path, cli)
    result = cli("skeleton", "export", "--format", "mmpose", cwd=tmp_path)
    assert result.code == 0, result
    ns: dict[str, Any] = {}
    exec(compile(result.out, "mmpose_config.py", "exec"), ns)
    info = ns["dataset_info"]
    assert set(info) >= {
        "dataset_name",
        "keypoint_info",
        "skeleton_info",
        "joint_weights",
        "sigmas",
    }
    kinfo = info["keypoint_info"]
    names = [kinfo[i]["name"] for i in range(len(kinfo))]
    assert names == list(COCO_KEYPOINTS)
    assert all(kinfo[i]["id"] == i for i in range(len(kinfo)))
    by_name = {n: i for i, n in enumerate(names)}
    # mmpose: flip_indices[i] = id of keypoint i's `swap`, else i
    flip = [by_name[kinfo[i]["swap"]] if kinfo[i]["swap"] else i for i in range(len(names))]
    assert flip == ns["flip_indices"] == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    assert all(flip[flip[i]] == i for i in range(len(flip)))
    links = [tuple(v["link"]) for v in info["skeleton_info"].values()]
    assert len(links) == 7 and all(a in by_name and b in by_name for a, b in links)
    assert len(info["joint_weights"]) == len(info["sigmas"]) == 17
    assert info["sigmas"][:2] == [0.026, 0.025]


def test_export_detectron2_reads_as_detectron2_builds_flip_indices(
    tmp_path: Path, cli: Any
) -> None:
    """The printed metadata runs as Python; detectron2 looks every keypoint_flip_map name up
    in keypoint_names (a name missing there is a KeyError at training start) and draws the
    connection rules by name."""
    _coco_contract(tmp_path, cli)
    result = cli("skeleton", "export", "--format", "detectron2", cwd=tmp_path)
    assert result.code == 0, result
    assert "cfg.MODEL.ROI_KEYPOINT_HEAD.NUM_KEYPOINTS = 17" in result.out
    ns: dict[str, Any] = {}
    exec(compile(result.out, "detectron2_metadata.py", "exec"), ns)
    meta = ns["metadata"]
    names = list(meta["keypoint_names"])
    assert names == list(COCO_KEYPOINTS)
    flip_map = dict(meta["keypoint_flip_map"])
    flip_map.update({v: k for k, v in flip_map.items()})
    flip = [names.index(flip_map.get(n, n)) for n in names]  # as detectron2 derives them
    assert flip == [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    rules = meta["keypoint_connection_rules"]
    assert len(rules) == 7
    assert all(a in names and b in names and len(color) == 3 for a, b, color in rules)


def test_missing_pinned_category_is_named(repo: Path, cli: Any) -> None:
    assert cli("skeleton", "init", cwd=repo).code == 0
    path = repo / "data/pose" / ANN.format("val")
    doc = json.loads(path.read_text())
    doc["categories"][0]["name"] = "human"
    path.write_text(json.dumps(doc))
    assert ("PL701", "/categories", "category 'person' of the skeleton contract is not in this "
            "split's categories") in _pl7(cli, repo / "data/pose", repo)  # fmt: skip


def test_export_without_contract(tmp_path: Path, cli: Any) -> None:
    build_dataset(tmp_path / "data", clean_docs())
    result = cli("skeleton", "export", "--format", "ultralytics", cwd=tmp_path)
    assert result.code == 2
    assert "no skeleton contract configured: run `poselint skeleton init` first" in result.err


@pytest.mark.parametrize(
    ("name", "side"),
    [
        ("left_hip", ("left", "hip")),
        ("right hip", ("right", "hip")),
        ("l_hip", ("left", "hip")),
        ("R_Hip", ("right", "hip")),
        ("LHip", ("left", "hip")),
        ("hip_left", ("left", "hip")),
        ("nose", None),
        ("leftover", None),
        ("HipLeft", ("left", "hip")),
    ],
)
def test_side_of(name: str, side: tuple[str, str] | None) -> None:
    assert side_of(name) == side


def test_example_repo_walkthrough(repo: Path, cli: Any) -> None:
    """example-repo/README.md, "3. Pin the skeleton", step by step."""
    assert cli("skeleton", "init", cwd=repo).code == 0
    out = cli("skeleton", "export", "--format", "ultralytics", cwd=repo).out
    assert "kpt_shape: [4, 3]\nflip_idx: [0, 2, 1, 3]\n" in out
    _edit(
        repo / "data/pose",
        "val",
        lambda c: c["keypoints"].__setitem__(slice(1, 3), ["right_eye", "left_eye"]),
    )
    result = cli("check", "data/pose", cwd=repo)
    assert result.code == 1
    assert (
        "data/pose/annotations/person_keypoints_val.json:1:233: PL701 "
        "category 'person': keypoints reordered: 'right_eye' is keypoint 1, not 2; 'left_eye' "
        "is keypoint 2, not 1 (at /categories/0/keypoints)\n"
    ) in result.out


def test_the_cli_offers_exactly_the_export_formats_there_are():
    from poselint.commands.options import SKELETON_EXPORTS
    from poselint.commands.skeleton import EXPORTS

    assert tuple(sorted(EXPORTS)) == SKELETON_EXPORTS
