"""Dataset text (paths, messages, names) made safe to print on one terminal line, for every
line format, the HTML pages' template and poselint's own stderr lines."""

from __future__ import annotations

import re
import unicodedata

from poselint.diagnostics import displayable

# Characters that end or rewrite a terminal line (C0/C1 controls, Unicode line breaks), lone
# surrogates (bytes of non-UTF-8 file names), and the invisible format characters (Cf): a
# bidi control redraws the rest of the line backwards ('x\u202egpj.exe' shows as 'xexe.jpg').
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_NON_ASCII_OR_CONTROL = re.compile("[^\x20-\x7e]")  # then the Unicode category decides
_HIDDEN = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xD800 <= code <= 0xDFFF:
        return displayable(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _visible(char: str) -> str:
    return _escape(char) if unicodedata.category(char) in _HIDDEN else char


def printable(text: str) -> str:
    """Dataset text (paths, messages) on one text line, shown as stored: control and format
    characters escaped as repr does (`\\n`, `\\u202e`), so a file name cannot start a line
    of its own (a forged `::error`) nor reorder the line it is on."""
    if text.isascii():
        return text if text.isprintable() else _UNPRINTABLE.sub(lambda m: _escape(m.group()), text)
    return _NON_ASCII_OR_CONTROL.sub(lambda m: _visible(m.group()), text)
