"""The vocabulary: which characters a model knows, and the id of each.

A vocabulary built from text is the sorted set of its Unicode code points
(spec/model.md). One loaded from a checkpoint keeps the file's order, whatever
it is, so ids always mean what the weights were trained with.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from rnntui.errors import UnknownCharacterError

_UNKNOWN_MODES = ("error", "skip")


def _code_points(text: str) -> np.ndarray:
    """The code points of `text` as uint32, without a Python loop.

    UTF-32 has one 4-byte unit per code point, so positions in the array are
    positions in the string. "surrogatepass" lets a lone surrogate (which can
    come from a command line) reach the lookup and be reported as unknown,
    instead of crashing the encoder.
    """
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _text_of(code_points: np.ndarray) -> str:
    return code_points.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")


class Vocabulary:
    """An ordered list of distinct characters; a character's id is its index."""

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        if not chars:
            raise ValueError("a vocabulary needs at least one character")
        seen: set[str] = set()
        for i, c in enumerate(chars):
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"vocabulary entry {i} is {c!r}, not exactly one character")
            if c in seen:
                raise ValueError(f"vocabulary lists {c!r} more than once")
            seen.add(c)
        self._chars = tuple(chars)
        self._cps = np.array([ord(c) for c in chars], dtype=np.uint32)
        # A table indexed by code point gives each character's id in one numpy
        # gather: ~10x faster than a sorted search, and at most 4.4 MB (int32
        # up to U+10FFFF). The extra last slot is -1, so anything above the
        # largest known code point is clipped onto it and reads as unknown.
        self._table = np.full(int(self._cps.max()) + 2, -1, dtype=np.int32)
        self._table[self._cps] = np.arange(len(chars), dtype=np.int32)

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted set of the characters of `text`."""
        return cls(_text_of(np.unique(_code_points(text))))

    @property
    def chars(self) -> list[str]:
        """The characters in id order (a copy: a vocabulary never changes)."""
        return list(self._chars)

    @property
    def size(self) -> int:
        return len(self._chars)

    def __len__(self) -> int:
        return len(self._chars)

    def __contains__(self, char: object) -> bool:
        return isinstance(char, str) and len(char) == 1 and self._lookup(char)[0] >= 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self._chars == other._chars

    def __hash__(self) -> int:
        return hash(self._chars)

    def __repr__(self) -> str:
        return f"Vocabulary(size={self.size}, chars={''.join(self._chars[:40])!r}{'...' if self.size > 40 else ''})"

    def _lookup(self, text: str) -> np.ndarray:
        """Id of each character of `text`, -1 where it is not in the vocabulary."""
        cps = _code_points(text)
        return self._table[np.minimum(cps, len(self._table) - 1)]

    def index(self, char: str) -> int:
        """The id of one character; UnknownCharacterError if it has none."""
        if not isinstance(char, str) or len(char) != 1:
            raise ValueError(f"index() takes one character, not {char!r}")
        i = int(self._lookup(char)[0])
        if i < 0:
            raise UnknownCharacterError(char)
        return i

    def encode(self, text: str, unknown: str = "error") -> np.ndarray:
        """Ids of the characters of `text` as int64.

        unknown="error" raises UnknownCharacterError for the first character
        outside the vocabulary, with its position; unknown="skip" drops such
        characters (`unknown_chars(text)` tells which ones were dropped).
        """
        if unknown not in _UNKNOWN_MODES:
            raise ValueError(f"unknown must be one of {_UNKNOWN_MODES}, not {unknown!r}")
        ids = self._lookup(text)
        missing = ids < 0
        if missing.any():
            if unknown == "error":
                pos = int(np.argmax(missing))  # the first unknown character
                raise UnknownCharacterError(text[pos], pos)
            ids = ids[~missing]
        return ids.astype(np.int64)

    def unknown_chars(self, text: str) -> list[str]:
        """The distinct characters of `text` outside the vocabulary, sorted."""
        missing = self._lookup(text) < 0
        return list(_text_of(np.unique(_code_points(text)[missing])))

    def decode(self, ids: Iterable[int] | np.ndarray) -> str:
        """The text for a sequence of ids; ValueError for an id out of range."""
        ids = np.asarray(ids if isinstance(ids, np.ndarray) else list(ids))
        if ids.size == 0:
            return ""
        if ids.dtype.kind not in "iu":
            raise ValueError(f"ids must be integers, not {ids.dtype}")
        ids = ids.ravel()
        lo, hi = int(ids.min()), int(ids.max())
        if lo < 0 or hi >= self.size:
            bad = lo if lo < 0 else hi
            raise ValueError(f"id {bad} is outside the vocabulary of size {self.size}")
        return _text_of(self._cps[ids])
