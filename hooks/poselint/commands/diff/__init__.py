"""`poselint diff`: what changed in the labels between two versions of a dataset root.

Per split (matched by name): images added and removed by `file_name`; people matched by
annotation id on the same image, then, for what is left (ids renumbered by a re-export),
by keypoint similarity on the same image; for matched people, keypoints moved further than
a threshold and visibility flags changed; category, keypoint-name and skeleton changes.
Findings introduced and fixed are compared by baseline fingerprints (baseline.py), so a
reordered file does not turn every finding into a new one.

The matching works on the split's numpy tables (tables.py), built once for the rules too.

model.py (the changes found), view.py (one version of a split as arrays), match.py (who is
the same person in both), compare.py (the changes of a split and a root), render.py (text,
json, github markdown), page.py (the html page), command.py (`poselint diff` itself).
"""

from poselint.commands.diff.command import run

__all__ = ["run"]
