"""A dataset root as the rules see it: its layout, and each split loaded at most once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poselint.config import Config
from poselint.load.document import Loaded
from poselint.load.filenames import FileNames, sort_file_names
from poselint.load.imageindex import ImageIndex
from poselint.load.keypoints import KeypointStore, keypoints_of
from poselint.load.layout import Layout, SplitFiles
from poselint.load.polygons import POLYGONS
from poselint.load.schema import is_valid
from poselint.load.splitnames import canonical_split
from poselint.load.tables import Tables, build_tables, entries
from poselint.sources.base import DataSource
from poselint.sources.workspace import WorkspaceSource

if TYPE_CHECKING:
    from poselint.load.imageheader import Header


@dataclass(eq=False)
class Split:
    dataset: Dataset
    files: SplitFiles

    @property
    def name(self) -> str:
        return self.files.name

    @property
    def canonical(self) -> str | None:
        return canonical_split(self.name, self.dataset.config.splits)

    @cached_property
    def loaded(self) -> Loaded | None:
        """The annotation file, read and parsed once (None when the split has none)."""
        if self.files.annotation_file is None:
            return None
        config = self.dataset.config
        return self.dataset.source.load(
            self.files.annotation_file,
            config.max_annotation_bytes,
            config.duplicate_key_check_bytes,
            self.dataset.exact,
        )

    @property
    def document(self) -> dict[str, Any] | None:
        """The parsed object. Each annotation's `keypoints` may be keypoints.STORED: read it
        with keypoints_of(), its numbers in `tables`."""
        return self.loaded.document if self.loaded else None

    @property
    def keypoint_store(self) -> KeypointStore | None:
        return self.loaded.keypoints if self.loaded else None

    def keypoints_of(self, j: int) -> Any:
        """annotations[j].keypoints as the file has it (None when absent)."""
        annotations = entries(self.document, "annotations")
        return keypoints_of(annotations[j], j, self.keypoint_store)

    def annotation_as_written(self, j: int) -> Any:
        """annotations[j] with its keypoints and polygons as the file has them (a copy when
        the compact parse held them elsewhere; unnamed keys are not in a compact parse)."""
        annotation = entries(self.document, "annotations")[j]
        if not isinstance(annotation, dict) or self.loaded is None or self.loaded.exact:
            return annotation
        written = dict(annotation)
        if "keypoints" in written:
            written["keypoints"] = self.keypoints_of(j)
        if written.get("segmentation") is POLYGONS:
            assert self.loaded.polygons is not None
            written["segmentation"] = self.loaded.polygons.exact(j)
        return written

    @cached_property
    def images(self) -> ImageIndex | None:
        """The files under images/<split>/, listed once (from DVC's manifest with --no-pull)."""
        if self.files.images_dir is None:
            return None
        return self.dataset.source.image_index(self.files.images_dir)

    @cached_property
    def file_names(self) -> FileNames:
        """images[].file_name sorted into safe and unsafe names, once for the PL5xx rules."""
        return sort_file_names(self.document)

    @cached_property
    def image_headers(self) -> dict[str, Header]:
        """The header of every referenced image present on disk, read once (PL503, PL504);
        empty with --no-image-size or --no-pull."""
        index = self.images
        if index is None or index.source != "disk" or not self.dataset.config.image_size:
            return {}
        from poselint.load.imageheader import read_headers  # a cached run reads no header

        present = {k for k, info in index.files.items() if info.kind == "file"}
        keys = sorted({r.key for r in self.file_names.safe} & present)
        folder = os.path.join(index.folder, "")  # str joins: no Path object per image
        return dict(zip(keys, read_headers([folder + k for k in keys]), strict=True))

    @cached_property
    def schema_valid(self) -> bool | None:
        """The whole document against the schema, asked once (None: not cheaply known)."""
        return is_valid(self.document) if self.document is not None else False

    @cached_property
    def tables(self) -> Tables:
        """numpy views of the document's big arrays, built once for all content rules."""
        assert self.document is not None and self.keypoint_store is not None
        return build_tables(
            self.document, self.keypoint_store, numbers_checked=self.schema_valid is True
        )


class Dataset:
    """A dataset root, read through its source (sources/base.DataSource): the workspace by
    default, DVC's record of it (--no-pull) or a git revision (`poselint diff`).

    exact: parse documents exactly as written (every key kept, keypoints as lists), for a
    rewrite (--fix); otherwise compact, which is faster and smaller (load/document.py).
    """

    def __init__(
        self,
        root: Path,
        config: Config,
        dvc_file: Path | None = None,  # the .dvc file (or dvc.yaml) tracking this root
        exact: bool = False,
        source: DataSource | None = None,
    ) -> None:
        self.root = root
        self.config = config
        self.dvc_file = dvc_file
        self.exact = exact
        self.source: DataSource = source if source is not None else WorkspaceSource(root, dvc_file)
        self.layout: Layout = self.source.scan()
        self.splits = [Split(self, files) for _, files in sorted(self.layout.splits.items())]

    @property
    def exists(self) -> bool:
        return self.source.exists
