import time

import numpy as np
import pytest

from rnntui.data.vocab import Vocabulary
from rnntui.errors import UnknownCharacterError

MIXED = "안녕하세요, 世界! こんにちは 🙂👩‍💻 café naïve Ωμέγα\n"


def test_from_text_is_the_sorted_set_of_code_points():
    vocab = Vocabulary.from_text("hello")
    assert vocab.chars == ["e", "h", "l", "o"]
    assert vocab.size == len(vocab) == 4
    assert vocab.encode("hello").tolist() == [1, 0, 2, 2, 3]


def test_sorting_is_by_code_point_beyond_the_basic_plane():
    vocab = Vocabulary.from_text(MIXED)
    assert vocab.chars == sorted(set(MIXED))
    assert [ord(c) for c in vocab.chars] == sorted(ord(c) for c in set(MIXED))


def test_round_trip_with_korean_cjk_emoji_and_accents():
    vocab = Vocabulary.from_text(MIXED)
    ids = vocab.encode(MIXED)
    assert ids.dtype == np.int64
    assert len(ids) == len(MIXED)  # one id per code point, emoji included
    assert vocab.decode(ids) == MIXED
    assert vocab.decode(ids.tolist()) == MIXED
    assert [vocab.chars[i] for i in ids] == list(MIXED)


def test_unknown_character_is_named_with_its_position():
    vocab = Vocabulary.from_text("hello")
    with pytest.raises(UnknownCharacterError) as info:
        vocab.encode("hell🙂o")
    assert info.value.char == "🙂"
    assert info.value.position == 4
    assert "'🙂'" in str(info.value) and "U+1F642" in str(info.value)


def test_a_character_above_every_known_code_point_is_unknown():
    # The lookup table ends at the largest known code point; anything past it
    # must not be clipped onto the last character.
    vocab = Vocabulary.from_text("ab")
    with pytest.raises(UnknownCharacterError) as info:
        vocab.encode("abz")
    assert info.value.char == "z"


def test_lone_surrogate_is_an_unknown_character_not_a_crash():
    vocab = Vocabulary.from_text("abc")
    with pytest.raises(UnknownCharacterError) as info:
        vocab.encode("a\udc80")
    assert info.value.position == 1


def test_skip_drops_unknown_characters_and_says_which():
    vocab = Vocabulary.from_text("hello")
    text = "xhe🙂llo!x"
    assert vocab.decode(vocab.encode(text, unknown="skip")) == "hello"
    assert vocab.unknown_chars(text) == ["!", "x", "🙂"]
    assert vocab.unknown_chars("hello") == []


def test_unknown_mode_is_checked():
    with pytest.raises(ValueError):
        Vocabulary.from_text("ab").encode("ab", unknown="replace")


def test_index_and_membership():
    vocab = Vocabulary.from_text(MIXED)
    for i, c in enumerate(vocab.chars):
        assert vocab.index(c) == i
        assert c in vocab
    assert "Z" not in vocab
    with pytest.raises(UnknownCharacterError):
        vocab.index("Z")


def test_explicit_list_keeps_its_order():
    # A checkpoint's vocabulary need not be sorted; its order is the ids' meaning.
    vocab = Vocabulary(["b", "한", "a"])
    assert vocab.encode("ab한").tolist() == [2, 0, 1]
    assert vocab.decode([1, 2, 0]) == "한ab"
    assert vocab.chars == ["b", "한", "a"]


def test_equal_when_same_characters_in_same_order():
    assert Vocabulary.from_text("cab") == Vocabulary(["a", "b", "c"])
    assert Vocabulary(["a", "b"]) != Vocabulary(["b", "a"])


@pytest.mark.parametrize(
    "chars",
    [["a", "bc"], ["a", ""], ["a", 7], ["a", "b", "a"], [], ["👩‍💻"]],
    ids=["two-chars", "empty-string", "not-a-string", "duplicate", "empty", "zwj-sequence"],
)
def test_explicit_list_is_validated(chars):
    with pytest.raises(ValueError):
        Vocabulary(chars)


def test_duplicate_is_named():
    with pytest.raises(ValueError, match="'a'"):
        Vocabulary(["a", "b", "a"])


@pytest.mark.parametrize("ids", [[0, 3], [-1], [1, 99]])
def test_decode_refuses_ids_outside_the_vocabulary(ids):
    with pytest.raises(ValueError):
        Vocabulary.from_text("abc").decode(ids)


def test_decode_of_nothing_is_empty():
    assert Vocabulary.from_text("abc").decode([]) == ""


def test_chars_cannot_be_changed_from_outside():
    vocab = Vocabulary.from_text("abc")
    vocab.chars.append("d")
    assert vocab.size == 3


def test_a_megabyte_of_korean_encodes_fast_and_right():
    # ~11,000 distinct Hangul syllables plus ASCII: the case a dict-per-char
    # or a list search would make slow.
    rng = np.random.default_rng(0)
    cps = rng.integers(0xAC00, 0xD7A4, size=1_000_000).astype(np.uint32)
    cps[::7] = ord(" ")
    text = cps.tobytes().decode("utf-32-le")
    vocab = Vocabulary.from_text(text)
    assert vocab.size > 10_000

    # CPU time of this process, not wall time: other work on the machine cannot make it fail.
    start = time.process_time()
    ids = vocab.encode(text)
    elapsed = time.process_time() - start

    lookup = {c: i for i, c in enumerate(vocab.chars)}
    assert np.array_equal(ids[:20_000], [lookup[c] for c in text[:20_000]])
    assert vocab.decode(ids) == text
    assert elapsed < 1.0, f"encoding 1M characters took {elapsed:.2f}s"
