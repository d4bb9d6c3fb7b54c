"""The HTML pages: one self-contained file showing each flagged pose drawn on its image.

model.py (what a page shows), images.py (which image file, decoded small), drawing.py (a
pose on its image), page.py (the template engine and its Content-Security-Policy, shared
with `poselint diff --format html`), report.py (the `check --format html` report).
"""
