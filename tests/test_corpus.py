import functools
import re
import shutil
import socket
import subprocess
import sys
import threading
import unicodedata
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rnntui.data import download, python_corpus
from rnntui.data.corpus import Corpus, corpus_names, list_corpora, load_corpus
from rnntui.data.vocab import Vocabulary
from rnntui.errors import CorpusError

SHAKESPEARE = Path(__file__).resolve().parents[2] / "shared" / "data" / "tinyshakespeare.txt"
needs_shakespeare = pytest.mark.skipif(not SHAKESPEARE.is_file(), reason=f"{SHAKESPEARE} is absent")


def one_line_error(fn, *args) -> str:
    with pytest.raises(CorpusError) as info:
        fn(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---- bundled corpora -------------------------------------------------------


def test_hello_is_hello_repeated_with_exactly_four_letters():
    corpus = load_corpus("hello")
    assert isinstance(corpus, Corpus)
    assert corpus.text == "hello" * 2000
    assert Vocabulary.from_text(corpus.text).chars == ["e", "h", "l", "o"]


def test_unicode_sample_exercises_many_scripts():
    text = load_corpus("unicode").text
    names = {unicodedata.name(c, "") for c in text}
    for script in ("HANGUL SYLLABLE", "CJK UNIFIED IDEOGRAPH", "HIRAGANA", "KATAKANA", "GREEK", "CYRILLIC", "HEBREW", "ARABIC"):
        assert any(n.startswith(script) for n in names), script
    assert any(ord(c) > 0xFFFF for c in text)  # emoji beyond the basic plane
    assert "\u0301" in text and "\u200d" in text  # a combining accent and a ZWJ
    vocab = Vocabulary.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text


def test_fables_are_a_few_kilobytes_of_english_prose():
    text = load_corpus("fables").text
    assert 4000 < len(text) < 60_000
    assert text.isascii() and text.count("\n\n") > 20


def test_listing_knows_every_name_and_what_is_local(cache_dir):
    rows = {row.name: row for row in list_corpora()}
    assert list(rows) == corpus_names()
    assert (rows["hello"].length, rows["hello"].vocab_size, rows["hello"].offline) == (10_000, 4, True)
    assert rows["python"].length is None and rows["python"].offline  # buildable, not built
    assert rows["shakespeare"].length is None and not rows["shakespeare"].offline
    assert all(row.description for row in rows.values())

    text = load_corpus("python").text
    row = next(r for r in list_corpora() if r.name == "python")
    assert (row.length, row.vocab_size) == (len(text), len(set(text)))


# ---- names and paths -------------------------------------------------------


def test_unknown_name_lists_the_known_ones():
    message = one_line_error(load_corpus, "no-such-corpus")
    assert "no-such-corpus" in message
    for name in corpus_names():
        assert name in message


def test_reads_a_utf8_file_and_strips_a_bom(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes("\ufeffhé 한\n".encode("utf-8"))
    corpus = load_corpus(str(path))
    assert corpus.text == "hé 한\n"
    assert corpus.name == "notes.txt"
    assert corpus.source == str(path.resolve())


def test_names_come_first_then_existing_files(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("hello").write_text("not the bundled one")
    Path("notes").write_text("a file without a separator in its name")
    assert load_corpus("hello").text == "hello" * 2000
    assert load_corpus("./hello").text == "not the bundled one"
    assert load_corpus("notes").text == "a file without a separator in its name"


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "not found"),
        ("dir", "is a directory"),
        (b"", "is empty"),
        (b"\xef\xbb\xbf", "is empty"),  # a BOM and nothing else
        (b"text\x00with a NUL", "binary"),
        (b"caf\xe9 in latin-1", "not UTF-8 text (byte 0xE9 at offset 3)"),
        ("héllo".encode("utf-16"), "UTF-16"),
    ],
    ids=["missing", "directory", "empty", "bom-only", "binary", "latin-1", "utf-16"],
)
def test_bad_files_fail_with_one_line_naming_path_and_problem(tmp_path, content, problem):
    path = tmp_path / "corpus.txt"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    message = one_line_error(load_corpus, str(path))
    assert str(path) in message
    assert problem in message


# ---- python: built from the standard library --------------------------------


def test_python_corpus_is_built_the_same_way_twice(cache_dir, tmp_path, monkeypatch):
    first = load_corpus("python")
    cached = cache_dir / python_corpus.cache_name()
    assert cached.read_text(encoding="utf-8") == first.text
    assert str(cached) in first.source
    assert len(first.text) > 500_000
    headers = re.findall(r"^# ---- (\S+) ----$", first.text, flags=re.M)
    assert headers[0] == "argparse.py" and headers == sorted(headers)
    assert [p for p in cache_dir.iterdir()] == [cached]  # no temporary file left

    monkeypatch.setenv("RNNTUI_CACHE_DIR", str(tmp_path / "fresh"))
    assert load_corpus("python").text == first.text


def test_python_corpus_is_read_from_the_cache_once_built(cache_dir):
    load_corpus("python")
    (cache_dir / python_corpus.cache_name()).write_text("print('from the cache')\n")
    assert load_corpus("python").text == "print('from the cache')\n"


def test_python_build_skips_missing_and_undecodable_modules(tmp_path):
    (tmp_path / "json").mkdir()
    (tmp_path / "json" / "encoder.py").write_bytes(b"x = 1\r\n")
    (tmp_path / "copy.py").write_bytes(b"y = '\xff'\n")  # not UTF-8: skipped
    (tmp_path / "ast.py").write_bytes(b"z = 2\n")
    text = python_corpus.build_text(tmp_path)
    assert text == "# ---- ast.py ----\nz = 2\n\n# ---- json/encoder.py ----\nx = 1\n"


def test_python_build_without_any_sources_fails_cleanly(tmp_path):
    assert "no Python standard library sources" in one_line_error(python_corpus.build_text, tmp_path)


def test_unwritable_cache_is_one_line_error(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("RNNTUI_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setenv(download.URL_ENV, closed_port_url())
    assert "RNNTUI_CACHE_DIR" in one_line_error(load_corpus, "python")
    assert "RNNTUI_CACHE_DIR" in one_line_error(load_corpus, "shakespeare")


# ---- shakespeare: downloaded and checked -----------------------------------


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture
def serve(tmp_path, monkeypatch):
    """A real HTTP server on 127.0.0.1; serve(name, data) returns the file's URL."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # never route the local server via a proxy
    root = tmp_path / "www"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def publish(name: str, data: bytes | None) -> str:
        if data is not None:
            (root / name).write_bytes(data)
        return f"http://127.0.0.1:{server.server_port}/{name}"

    yield publish
    server.shutdown()
    server.server_close()
    thread.join()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/input.txt"  # nothing listens there now


@needs_shakespeare
def test_shakespeare_downloads_once_then_works_offline(serve, cache_dir, monkeypatch):
    monkeypatch.setenv(download.URL_ENV, serve("input.txt", SHAKESPEARE.read_bytes()))
    corpus = load_corpus("shakespeare")
    assert corpus.text == SHAKESPEARE.read_text(encoding="utf-8")
    assert len(corpus.text) == 1_115_394
    assert [p.name for p in cache_dir.iterdir()] == [download.FILE_NAME]

    monkeypatch.setenv(download.URL_ENV, closed_port_url())
    assert load_corpus("shakespeare").text == corpus.text
    row = next(r for r in list_corpora() if r.name == "shakespeare")
    assert (row.length, row.vocab_size, row.offline) == (1_115_394, 65, True)


@needs_shakespeare
def test_download_prints_nothing(serve, monkeypatch):
    # pooch's logger writes to the terminal on its own; a subprocess sees it all.
    monkeypatch.setenv(download.URL_ENV, serve("input.txt", SHAKESPEARE.read_bytes()))
    code = "from rnntui.data.corpus import load_corpus; load_corpus('shakespeare')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_shakespeare_with_wrong_checksum_is_refused_and_not_kept(serve, cache_dir, monkeypatch):
    monkeypatch.setenv(download.URL_ENV, serve("input.txt", b"To be, or not to be: a different file.\n"))
    message = one_line_error(load_corpus, "shakespeare")
    assert "checksum" in message and download.SHA256 in message
    assert list(cache_dir.iterdir()) == []  # neither the bad file nor a temporary one


def test_shakespeare_offline_says_how_to_get_it_by_hand(cache_dir, monkeypatch):
    url = closed_port_url()
    monkeypatch.setenv(download.URL_ENV, url)
    message = one_line_error(load_corpus, "shakespeare")
    assert url in message
    assert message.endswith(f"save it as {cache_dir / download.FILE_NAME}")
    assert list(cache_dir.iterdir()) == []


def test_shakespeare_missing_on_server_reports_http_status(serve, monkeypatch):
    monkeypatch.setenv(download.URL_ENV, serve("absent.txt", None))
    assert "HTTP 404" in one_line_error(load_corpus, "shakespeare")


@needs_shakespeare
def test_following_the_offline_message_by_hand_works(cache_dir, monkeypatch):
    monkeypatch.setenv(download.URL_ENV, closed_port_url())
    message = one_line_error(load_corpus, "shakespeare")
    target = Path(message.rsplit("save it as ", 1)[1])
    shutil.copyfile(SHAKESPEARE, target)
    assert len(load_corpus("shakespeare").text) == 1_115_394


def test_a_wrong_file_in_the_cache_is_reported_not_used(cache_dir, monkeypatch):
    monkeypatch.setenv(download.URL_ENV, closed_port_url())
    (cache_dir / download.FILE_NAME).write_text("not shakespeare")
    message = one_line_error(load_corpus, "shakespeare")
    assert str(cache_dir / download.FILE_NAME) in message and "sha256" in message
