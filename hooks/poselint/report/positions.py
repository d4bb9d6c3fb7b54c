"""Where a JSON pointer lands in a file: line and column, for editors and inline annotations.

One pass of numpy over the bytes builds an index of the structural characters outside
strings (`{ } [ ] , :`) and the nesting depth of each; a pointer is then followed with binary
searches in that index, so a few thousand pointers into a COCO-2017-sized file cost one
vectorised scan, not a Python tokenizer over 100 MB. tests/test_positions.py checks it
against a plain tokenizer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from poselint.lazy import np

if TYPE_CHECKING:
    import numpy.typing as npt


@cache
def _structural() -> npt.NDArray[np.bool_]:
    """byte -> whether it is one of `{}[],:` (built on first use: numpy is imported lazily)."""
    table = np.zeros(256, dtype=bool)
    table[list(b"{}[],:")] = True
    return table


_SPACE = re.compile(rb"[ \t\r\n]*")
_OPEN = frozenset(b"{[")
_CHUNK = 1 << 22


def _find(sorted_values: npt.NDArray[Any], value: int) -> int:
    """np.searchsorted with the value in the array's own type: a Python int would first
    convert an int32 array, every call."""
    return int(sorted_values.searchsorted(sorted_values.dtype.type(value)))


class _Index:
    def __init__(self, data: bytes | bytearray) -> None:
        self.data = data
        arr = np.frombuffer(data, dtype=np.uint8)
        wide = np.int64 if len(data) >= 1 << 31 else np.int32
        parts: list[npt.NDArray[Any]] = []
        structural = _structural()
        in_string_before = 0
        for start in range(0, len(arr), _CHUNK):  # chunks bound the temporary masks
            chunk = arr[start : start + _CHUNK]
            quote = chunk == ord('"')
            # a quote after an odd run of backslashes is inside a string (valid JSON has no
            # backslash outside one), so it does not toggle
            before = arr[max(0, start - 1) : start + len(chunk) - 1]
            escaped = quote[1:] if start == 0 else quote
            for q in (np.flatnonzero(escaped & (before == ord("\\"))) + (start == 0)).tolist():
                i = start + q - 1
                while i >= 0 and data[i] == ord("\\"):
                    i -= 1
                if (start + q - 1 - i) % 2:
                    quote[q] = False
            in_string = np.bitwise_xor.accumulate(quote.view(np.uint8))
            in_string ^= in_string_before
            in_string_before = int(in_string[-1])
            where = structural[chunk]
            where &= in_string == 0
            parts.append(np.flatnonzero(where).astype(wide) + start)
        self.pos: npt.NDArray[Any] = np.concatenate(parts) if parts else np.zeros(0, wide)
        del parts
        chars = arr[self.pos]
        self.chars = chars
        delta = np.zeros(len(chars), dtype=np.int8)
        delta[(chars == ord("{")) | (chars == ord("["))] = 1
        closes = (chars == ord("}")) | (chars == ord("]"))
        delta[closes] = -1
        # the depth inside the container each character opens, separates or closes
        self.inner = np.cumsum(delta, dtype=np.int32)
        self.inner += closes
        self._by_depth: dict[int, npt.NDArray[Any]] = {}
        self._closes: dict[int, npt.NDArray[Any]] = {}
        self._members: dict[int, dict[str, int]] = {}
        self._newlines: npt.NDArray[Any] | None = None
        self._continuations: npt.NDArray[Any] | None = None

    def at_depth(self, depth: int) -> npt.NDArray[Any]:
        if depth not in self._by_depth:
            self._by_depth[depth] = np.flatnonzero(self.inner == depth).astype(self.pos.dtype)
        return self._by_depth[depth]

    def closer(self, depth: int, opener: int) -> int:
        """Where, among the peers at `depth`, the container opened at `opener` closes."""
        if depth not in self._closes:
            peers = self.at_depth(depth)
            self._closes[depth] = np.flatnonzero(
                (self.chars[peers] == ord("}")) | (self.chars[peers] == ord("]"))
            )
        closes = self._closes[depth]
        first = _find(self.at_depth(depth), opener)
        return int(closes[_find(closes, first)])

    def value_after(self, offset: int) -> int:
        match = _SPACE.match(self.data, offset)
        return match.end() if match else offset

    def child(self, start: int, token: str) -> int | None:
        """The offset of the value `token` names in the container starting at `start`."""
        i = _find(self.pos, start)
        if i >= len(self.pos) or self.pos[i] != start or int(self.chars[i]) not in _OPEN:
            return None  # a scalar: nothing below it
        depth = int(self.inner[i])
        peers = self.at_depth(depth)
        first = _find(peers, i)  # peers[first] is this container's opener
        if self.chars[i] == ord("["):
            if not token.isdigit() or (len(token) > 1 and token[0] == "0"):
                return None
            n = int(token)
            if n == 0:
                after = self.value_after(start + 1)
                return None if self.data[after] == ord("]") else after
            k = first + n  # the comma before element n, if it is before the array closes
            if k >= self.closer(depth, i):
                return None
            return self.value_after(int(self.pos[peers[k]]) + 1)
        members = self._members.get(i)
        if members is None:
            members = {}
            k = first + 1
            while k < len(peers) and self.chars[peers[k]] == ord(":"):
                colon = int(peers[k])
                raw = bytes(self.data[int(self.pos[colon - 1]) + 1 : self.pos[colon]]).strip()
                key = raw[1:-1].decode() if b"\\" not in raw else json.loads(raw)
                members[key] = self.value_after(int(self.pos[colon]) + 1)  # the last wins
                k += 2  # past the comma (or the close) that ends this member
            self._members[i] = members
        return members.get(token)

    def line_column(self, offset: int) -> tuple[int, int]:
        if self._newlines is None:
            arr = np.frombuffer(self.data, dtype=np.uint8)
            self._newlines = np.flatnonzero(arr == ord("\n"))
            self._continuations = (
                np.zeros(0, dtype=np.int64)
                if self.data.isascii()
                else np.flatnonzero((arr & 0xC0) == 0x80)
            )
        assert self._continuations is not None
        line = _find(self._newlines, offset)
        line_start = int(self._newlines[line - 1]) + 1 if line else 0
        cont = self._continuations
        skipped = _find(cont, offset) - _find(cont, line_start)
        return line + 1, offset - line_start - skipped + 1


def locate(data: bytes | bytearray, pointers: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Line and column (1-based; the column counts characters) of the value each RFC 6901
    pointer names in `data`, a JSON document that parsed. A pointer that goes past what the
    document holds (a missing key, say) lands on the deepest value it does name."""
    wanted = set(pointers)
    if not wanted:
        return {}
    index = _Index(data)
    root = index.value_after(0)
    if data[:3] == b"\xef\xbb\xbf":
        root = index.value_after(3)
    found: dict[str, int] = {}
    out: dict[str, tuple[int, int]] = {}
    for pointer in wanted:
        offset, path = root, ""
        for part in pointer.split("/")[1:]:
            path += "/" + part
            known = found.get(path)
            if known is None:
                known = index.child(offset, part.replace("~1", "/").replace("~0", "~"))
                if known is None:
                    break
                found[path] = known
            offset = known
        out[pointer] = index.line_column(offset)
    return out
