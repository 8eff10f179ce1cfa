"""The `shakespeare` corpus: tiny-shakespeare, downloaded once and checked by sha256.

The file is not shipped (it is not ours to ship); the first use fetches it
into the cache. When that is impossible the error says exactly where to put
a copy fetched by hand.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from rnntui.errors import CorpusError

URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
FILE_NAME = "tinyshakespeare.txt"
URL_ENV = "RNNTUI_SHAKESPEARE_URL"  # a mirror, or a local server in tests
TIMEOUT_SECONDS = 30


def url() -> str:
    return os.environ.get(URL_ENV) or URL


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cached_copy(cache_dir: Path) -> Path | None:
    """The verified copy in `cache_dir`, or None if there is none yet."""
    path = cache_dir / FILE_NAME
    return path if path.is_file() and sha256_of(path) == SHA256 else None


def ensure_downloaded(cache_dir: Path) -> Path:
    """Path of a verified copy in `cache_dir`, downloading it if there is none."""
    path = cache_dir / FILE_NAME
    if path.is_file():
        if sha256_of(path) != SHA256:
            raise CorpusError(
                f"{path} is not the tiny-shakespeare file (its sha256 differs); "
                f"delete it, or replace it with the file at {url()}"
            )
        return path
    _download(url(), path)
    return path


def _download(source: str, path: Path) -> None:
    # pooch streams into a temporary file beside `path` and moves it into
    # place only when the sha256 matches, so a bad or partial download never
    # lands in the cache. Imported here so that startup stays fast.
    import pooch
    import requests  # what pooch downloads with: its errors are the network errors

    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # no "Downloading ..." chatter on the terminal
    try:
        pooch.retrieve(
            source,
            known_hash=f"sha256:{SHA256}",
            fname=path.name,
            path=path.parent,
            downloader=pooch.HTTPDownloader(progressbar=False, timeout=TIMEOUT_SECONDS),
        )
    except ValueError as e:
        if "hash" not in str(e).lower():
            raise
        raise CorpusError(
            f"the file downloaded from {source} does not match the tiny-shakespeare "
            f"checksum (sha256 {SHA256}); nothing was saved"
        ) from None
    except requests.RequestException as e:
        raise CorpusError(
            f"could not download the shakespeare corpus from {source} ({_reason(e, requests)}); "
            f"download that file by hand and save it as {path}"
        ) from None
    except OSError as e:
        raise CorpusError(
            f"cannot save the shakespeare corpus to {path} ({e.strerror or e}); "
            "set RNNTUI_CACHE_DIR to a writable folder"
        ) from None
    finally:
        logger.setLevel(level)


def _reason(error: Exception, requests) -> str:
    """A few words for why a download failed (requests' own messages run for lines)."""
    if isinstance(error, requests.Timeout):
        return "timed out"
    if isinstance(error, requests.ConnectionError):
        return "no connection"
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code}"
    return type(error).__name__
