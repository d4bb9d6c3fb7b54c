"""poselint: lint COCO Keypoints pose datasets laid out as images/<split>/ + annotations/."""

__version__ = "0.3.0"
