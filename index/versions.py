"""An index folder as a series of complete versions, switched atomically.

`index_dir` (`.wbqa/index`) is a symbolic link to one version folder in
`.index.versions/` beside it. A build writes a whole new version there, then replaces the
link in one rename, so a reader opening the index at any moment reads one complete version,
never files of two. A reader resolves the link once and holds a shared `flock` on the
version while it reads; after each switch the builder removes the old versions it can lock
exclusively, i.e. those no reader is reading.

A folder written by an older wbqa (the index files directly in `index_dir`) is read as it
is and becomes the first version when the next build moves it aside.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

UPLOADS_DIR = "uploads"
# What lives beside the versions, shared by all: uploaded files and users' verdicts.
SHARED_NAMES = (UPLOADS_DIR, "feedback.jsonl")
BUILDING_PREFIX = ".building-"
TRASH_PREFIX = ".trash-"
LINK_PREFIX = ".link-"
PUBLISH_LOCK = ".publish.lock"
# What remove_unused may remove: versions (named by time), unfinished builds and trash.
_VERSION_NAME = re.compile(r"^(?:\.building-|\.trash-)?\d{8}T\d{6}-")
# A reader retries when the version it resolved was replaced before it could lock it; each
# retry follows a newer switch, so a few always suffice.
READ_ATTEMPTS = 20


class VersionMoved(Exception):
    """Another build switched `index_dir` since the version this one was built from."""


def versions_root(index_dir: Path) -> Path:
    index_dir = Path(index_dir)
    return index_dir.parent / f".{index_dir.name}.versions"


def shared_path(index_dir: Path, name: str) -> Path:
    """Where a shared file lives (one of SHARED_NAMES): beside the versions, the same for
    every version (each links to it, so `index_dir/NAME` is where it always was)."""
    return versions_root(index_dir) / name


def shared_uploads(index_dir: Path) -> Path:
    return shared_path(index_dir, UPLOADS_DIR)


def adopt_shared(index_dir: Path) -> Path | None:
    """Move what an older wbqa kept inside the index folder itself (uploaded files, by hard
    links; users' verdicts, by a copy) to the shared place, once; returns the shared uploads
    folder, or None when nothing was ever uploaded."""
    current = current_folder(index_dir)
    for name in SHARED_NAMES:
        legacy, shared = current / name, shared_path(index_dir, name)
        if legacy.is_symlink() or not legacy.exists():
            continue
        shared.parent.mkdir(parents=True, exist_ok=True)
        if legacy.is_file() and not shared.exists():
            shutil.copy2(legacy, shared)
        elif legacy.is_dir():
            shared.mkdir(exist_ok=True)
            for file in sorted(legacy.iterdir()):
                target = shared / file.name
                if file.is_file() and not target.exists():
                    try:
                        os.link(file, target)
                    except OSError:
                        shutil.copy2(file, target)
    uploads = shared_uploads(index_dir)
    return uploads if uploads.is_dir() else None


def link_shared(folder: Path, index_dir: Path) -> None:
    """Give the version `folder` its links to the shared files that exist."""
    for name in SHARED_NAMES:
        link = folder / name
        if shared_path(index_dir, name).exists() and not link.exists() and not link.is_symlink():
            os.symlink(os.path.join(os.pardir, name), link)


def share(index_dir: Path, name: str) -> Path:
    """The shared path of `name` (created by the caller's first write), linked from the
    current version as soon as it exists, so that `index_dir/NAME` shows it at once."""
    shared = shared_path(index_dir, name)
    if shared.exists() and Path(index_dir).is_symlink():
        with contextlib.suppress(OSError):  # a concurrent build links it in its version
            link_shared(current_folder(index_dir), index_dir)
    return shared


def current_folder(index_dir: Path) -> Path:
    """The folder `index_dir` stands for right now (the version it links to)."""
    return Path(os.path.realpath(index_dir))


def _same_file(fd: int, path: Path) -> bool:
    try:
        now = os.stat(path)
    except OSError:
        return False
    held = os.fstat(fd)
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


@contextlib.contextmanager
def reading(index_dir: Path) -> Iterator[Path]:
    """The current version of `index_dir`, kept from removal while the caller reads it.

    Yields `index_dir` itself when nothing is there (the caller reports it missing).
    """
    for _ in range(READ_ATTEMPTS):
        folder = current_folder(index_dir)
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except (FileNotFoundError, NotADirectoryError):
            if current_folder(index_dir) != folder:
                continue  # switched meanwhile: follow the link again
            yield Path(index_dir)
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_SH)
            # Removed (or moved aside) while we waited for the lock? Then follow the link again.
            # A version the link no longer names is still whole while we hold its lock.
            if not _same_file(fd, folder):
                continue
            yield folder
            return
        finally:
            os.close(fd)
    raise VersionMoved(f"{index_dir} kept changing while it was opened")


class Building:
    """A version being written: a folder in the versions root, locked exclusively (so no
    clean-up removes it) until it is published or discarded."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = Path(index_dir)
        root = versions_root(self.index_dir)
        root.mkdir(parents=True, exist_ok=True)
        self.name = f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{secrets.token_hex(3)}"
        self.folder = root / f"{BUILDING_PREFIX}{self.name}"
        self.folder.mkdir()
        self._fd: int | None = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def publish(self, expected: Path | None = None) -> Path:
        """Switch `index_dir` to this version (atomically), then remove unused versions.

        With `expected`, switch only if `index_dir` still names that folder (else
        VersionMoved): the builder read it and built on it.
        """
        root = versions_root(self.index_dir)
        final = root / self.name
        os.rename(self.folder, final)
        self.folder = final
        with _locked(root / PUBLISH_LOCK):
            if expected is not None and current_folder(self.index_dir) != Path(expected):
                raise VersionMoved(f"{self.index_dir} was switched by another build")
            _move_aside_legacy(self.index_dir)
            link = root / f"{LINK_PREFIX}{self.name}"
            os.symlink(os.path.relpath(final, self.index_dir.parent), link)
            os.replace(link, self.index_dir)
        self._release()
        remove_unused(self.index_dir)
        return final

    def discard(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _move_aside_legacy(index_dir: Path) -> None:
    """An index folder of an older wbqa (a real folder) becomes a version, once its readers
    are done; then `index_dir` can be replaced by the link."""
    if index_dir.is_symlink() or not index_dir.is_dir():
        return
    fd = os.open(index_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        target = versions_root(index_dir) / f"{time.strftime('%Y%m%dT%H%M%S')}-previous"
        os.rename(index_dir, target)
    finally:
        os.close(fd)


def remove_unused(index_dir: Path) -> list[str]:
    """Remove every version but the current one that no reader or builder holds; returns the
    names removed. A version in use stays, and goes at a later build."""
    root = versions_root(index_dir)
    current = current_folder(index_dir)
    removed = []
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if entry.name.startswith(LINK_PREFIX) and entry.is_symlink():
            with contextlib.suppress(OSError):
                if current_folder(entry) != current:
                    entry.unlink()
            continue
        if not _VERSION_NAME.match(entry.name) or entry.is_symlink() or not entry.is_dir():
            continue
        if current_folder(entry) == current:
            continue
        try:
            fd = os.open(entry, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            trash = entry
            if not entry.name.startswith(TRASH_PREFIX):
                trash = root / f"{TRASH_PREFIX}{entry.name.removeprefix(BUILDING_PREFIX)}"
                os.rename(entry, trash)
            shutil.rmtree(trash, ignore_errors=True)
            removed.append(entry.name)
        finally:
            os.close(fd)
    return removed
