"""Every file rnntui writes goes through here, so every output keeps the same promises.

- A symlink is followed and its target written; the link stays a link.
- Only regular files are written: a directory, a device or a FIFO is refused, never replaced.
- An output that is also an input of the same command is refused (a resumed run may write
  back to the checkpoint it resumed from: its caller says so).
- The folder is checked before any work starts (`output_target`), not after an hour of training.
- A whole file is written atomically (`write_atomically`): a temp file in the same folder,
  fsync, rename. A crash leaves the old file; the temp file it leaves is removed by the next
  write of that file once its writer is gone.
- Failures are one line naming the path (OutputError), never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path
from typing import IO, Mapping

from rnntui.errors import OutputError

TEMP_SUFFIX = ".tmp"


def resolved(path: str | os.PathLike) -> Path:
    """The file a write to `path` lands in: every symlink on the way followed, even a dangling one."""
    return Path(os.path.realpath(os.path.expanduser(os.fspath(path))))


def output_target(
    path: str | os.PathLike, *, inputs: Mapping[str, str | os.PathLike | None] = (), may_replace: str | None = None
) -> Path:
    """Check, before any work, that `path` can and may be written; return the file that will be.

    `inputs` names what the command reads ({"--checkpoint": path, ...}); `may_replace` names the
    one input this output is allowed to be (a resumed checkpoint written back in place).
    """
    target = resolved(path)
    _refuse_non_regular(path, target)
    for option, source in dict(inputs).items():
        if source is not None and option != may_replace and _same_file(target, resolved(source)):
            raise OutputError(f"{path}: is also the {option} this command reads; choose another output file")
    folder = target.parent
    if not folder.is_dir():
        raise OutputError(f"{path}: cannot write: the folder {folder} does not exist")
    if target.exists() and not os.access(target, os.W_OK):
        raise OutputError(f"{path}: cannot write: the file is read-only")
    probe = folder / f".{target.name}.{os.getpid()}-probe{TEMP_SUFFIX}"
    try:  # the only sure test that a file can be made here (permissions, read-only mounts, ACLs)
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as e:
        raise OutputError(f"{path}: cannot write in the folder {folder}: {e.strerror or e}") from None
    return target


def write_atomically(path: str | os.PathLike, data: bytes) -> Path:
    """Replace the file at `path` (a symlink's target) with `data`, all or nothing; return the file written."""
    target = resolved(path)
    _refuse_non_regular(path, target)
    remove_stale_temporaries(target)
    # Same folder, so os.replace is a rename on one filesystem: readers see the old file or the
    # new one, never a part. The writer's pid in the name lets a later write tell its litter from
    # a live writer's. O_EXCL with mode 0o666 honours the umask.
    tmp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, target)
    except BaseException as error:  # Ctrl-C included: never leave a temp file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(error, OSError):
            raise OutputError(f"{path}: cannot write: {error.strerror or error}") from None
        raise
    _fsync_folder(target.parent)
    return target


def open_for_append(path: str | os.PathLike) -> IO[str]:
    """A UTF-8 text stream appending to `path` (a log another program may follow as it grows)."""
    target = resolved(path)
    _refuse_non_regular(path, target)
    try:
        return open(target, "a", encoding="utf-8")
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror or e}") from None


def remove_stale_temporaries(target: Path) -> list[Path]:
    """Delete temp files of `target` whose writer is no longer running (a crash or SIGKILL mid-write)."""
    removed = []
    with contextlib.suppress(OSError):
        for candidate in target.parent.glob(f".{_glob_escape(target.name)}.*{TEMP_SUFFIX}"):
            writer = candidate.name[len(target.name) + 2 : -len(TEMP_SUFFIX)].split("-", 1)[0]
            if writer.isdigit() and _running(int(writer)):
                continue
            with contextlib.suppress(OSError):
                candidate.unlink()
                removed.append(candidate)
    return removed


def _refuse_non_regular(path, target: Path) -> None:
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as e:
        raise OutputError(f"{path}: cannot write: {e.strerror or e}") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: cannot write: is a directory")
    if not stat.S_ISREG(mode):
        raise OutputError(f"{path}: cannot write: not a regular file (a device, FIFO or socket is never replaced)")


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links, bind mounts, case-insensitive folders
    except OSError:
        return False


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, owned by someone else
        return True
    return True


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself survive a power cut; not every platform can open a directory.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
