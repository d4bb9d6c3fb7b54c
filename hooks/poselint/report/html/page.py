"""The page builder both HTML pages share: one autoescaping, strict template engine whose
every printed value is made printable, and a Content-Security-Policy without script-src, so
that dataset text (untrusted) can neither inject markup nor run a script."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING, Any

from poselint import __version__
from poselint.report.escape import printable
from poselint.report.html.drawing import THUMB_SIDE

if TYPE_CHECKING:
    import jinja2

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def load_template(name: str) -> jinja2.Template:
    """A page template: autoescaped, strict, every value through _finalize."""
    import jinja2  # only the HTML pages need it: `poselint check` starts faster without

    template = (resources.files("poselint.report") / "templates" / name).read_text("utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, finalize=_finalize)
    return env.from_string(template)


def _finalize(value: object) -> object:
    """Every value the template prints, as text output shows it: control, bidi and format
    characters escaped (a name cannot reorder what follows it), non-UTF-8 bytes as `\\xff`."""
    return printable(value) if isinstance(value, str) else value


def render_page(name: str, **values: Any) -> str:
    """A page of templates/: its values, and the version, CSP and thumbnail size every page
    prints."""
    return load_template(name).render(version=__version__, csp=CSP, thumb_side=THUMB_SIDE, **values)
