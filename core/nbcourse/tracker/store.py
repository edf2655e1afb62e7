"""The learner's own answers: ticks (`self`), choices (`choice`) and free text (`text`).

One JSON file per learner and course:

    {"schema_version": 1, "course_id": "...",
     "items": {"<item id>": {"value": true | "text", "rev": 3, "updated": "2026-...Z"}},
     "settings": {"share": false}}

`settings` holds the learner's choices about the tracker itself (whether to share their entered
items with instructors); a file without it has the defaults (private).

The file holds words a learner typed and cannot type again, so every write is atomic (write a
temporary file in the same folder, fsync, `os.replace`) and the previous good version is kept as
`<name>.bak`. A main file that cannot be read is moved aside (never deleted) and the `.bak` restored.
Each item carries a revision number: a write based on an older revision is refused with a
`Conflict`, so two browser tabs never silently overwrite each other.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

log = logging.getLogger(__name__)

StoredValue = bool | str


class StoreError(RuntimeError):
    """The store file cannot be used as it is; the message says which file and why."""


@dataclass(frozen=True)
class StoredItem:
    value: StoredValue | None
    rev: int
    updated: str | None

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "rev": self.rev, "updated": self.updated}


EMPTY = StoredItem(value=None, rev=0, updated=None)


class Conflict(Exception):
    """A write was based on revision `base_rev` but the stored item is at `current.rev`."""

    def __init__(self, item_id: str, base_rev: int, current: StoredItem) -> None:
        super().__init__(
            f"item {item_id!r} changed elsewhere: the edit was based on revision {base_rev}, "
            f"the stored revision is {current.rev}"
        )
        self.item_id = item_id
        self.base_rev = base_rev
        self.current = current


def now_iso() -> str:
    """The current UTC time as the store writes it (`2026-11-27T10:00:00Z`)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


Settings = dict[str, bool]
DEFAULT_SETTINGS: Settings = {"share": False}


def _parse_settings(data: dict[str, Any]) -> Settings:
    raw = data.get("settings")
    settings = dict(DEFAULT_SETTINGS)
    if isinstance(raw, dict):
        settings.update({k: v for k, v in raw.items() if k in DEFAULT_SETTINGS and isinstance(v, bool)})
    return settings


def _parse(text: str, path: Path, course_id: str) -> tuple[dict[str, StoredItem], Settings]:
    """Validate a store document; raises ValueError (corrupt) or StoreError (unknown version)."""
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("the top level is not a JSON object")
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        # A newer tracker wrote this file; guessing at its shape could destroy answers.
        raise StoreError(
            f"{path}: unknown schema_version {version!r} (this tracker reads version "
            f"{SCHEMA_VERSION}); the file was left untouched — upgrade nbcourse"
        )
    if data.get("course_id") != course_id:
        raise StoreError(
            f"{path} belongs to course {data.get('course_id')!r}, not {course_id!r}; "
            "set CourseTracker.store_path to this course's own file"
        )
    items = data.get("items")
    if not isinstance(items, dict):
        raise ValueError("'items' is not a JSON object")
    parsed: dict[str, StoredItem] = {}
    for item_id, entry in items.items():
        if not isinstance(entry, dict):
            raise ValueError(f"item {item_id!r} is not a JSON object")
        value, rev = entry.get("value"), entry.get("rev")
        if value is not None and not isinstance(value, (bool, str)):
            raise ValueError(f"item {item_id!r} has a value of type {type(value).__name__}")
        if not isinstance(rev, int) or isinstance(rev, bool) or rev < 0:
            raise ValueError(f"item {item_id!r} has an invalid rev {rev!r}")
        updated = entry.get("updated")
        parsed[item_id] = StoredItem(value, rev, updated if isinstance(updated, str) else None)
    return parsed, _parse_settings(data)


class Store:
    """Read and write one learner's stored answers, safely across threads and browser tabs."""

    def __init__(self, path: Path, course_id: str) -> None:
        self.path = Path(path)
        self.course_id = course_id
        self.backup_path = self.path.with_name(self.path.name + ".bak")
        self._lock = threading.RLock()
        self._cache: dict[str, StoredItem] | None = None
        self._settings: Settings = dict(DEFAULT_SETTINGS)
        self._cache_key: tuple[int, int] | None = None
        # The last recovery from a corrupt file, for logs and for tests to assert on.
        self.last_recovery: str | None = None

    # ---- reading -------------------------------------------------------------------------

    def read_all(self) -> dict[str, StoredItem]:
        """Every stored item. Cached until the file changes on disk, so a tracker read is cheap."""
        with self._lock:
            return dict(self._load())

    def get(self, item_id: str) -> StoredItem:
        with self._lock:
            return self._load().get(item_id, EMPTY)

    def settings(self) -> Settings:
        with self._lock:
            self._load()
            return dict(self._settings)

    def _file_key(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _load(self) -> dict[str, StoredItem]:
        key = self._file_key()
        if self._cache is not None and key == self._cache_key:
            return self._cache
        if key is None:
            items, settings = (
                self._recover("the store file is missing")
                if self.backup_path.exists()
                else ({}, dict(DEFAULT_SETTINGS))
            )
        else:
            try:
                items, settings = _parse(self.path.read_text(encoding="utf-8"), self.path, self.course_id)
            except StoreError:
                raise
            except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
                items, settings = self._recover(f"the store file is corrupt ({exc})")
        self._cache, self._settings, self._cache_key = items, settings, self._file_key()
        return items

    def _recover(self, problem: str) -> tuple[dict[str, StoredItem], Settings]:
        """Move the unreadable main file aside and bring back the last good version."""
        kept = None
        if self.path.exists():
            stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
            kept = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            os.replace(self.path, kept)
        items: dict[str, StoredItem] = {}
        settings = dict(DEFAULT_SETTINGS)
        restored = False
        if self.backup_path.exists():
            try:
                text = self.backup_path.read_text(encoding="utf-8")
                items, settings = _parse(text, self.backup_path, self.course_id)
                self._write_text_atomically(text)
                restored = True
            except (ValueError, UnicodeDecodeError) as exc:
                log.error("course tracker: backup %s is unreadable too (%s)", self.backup_path, exc)
        self.last_recovery = (
            f"{self.path}: {problem}; "
            + (f"the unreadable file was kept as {kept}; " if kept else "")
            + (
                f"restored the previous version from {self.backup_path}"
                if restored
                else "no valid backup, starting from an empty store"
            )
        )
        log.warning("course tracker: %s", self.last_recovery)
        return items, settings

    # ---- writing -------------------------------------------------------------------------

    def set(self, item_id: str, value: StoredValue, base_rev: int) -> StoredItem:
        """Store `value` for `item_id` if nobody changed it since revision `base_rev`."""
        with self._lock:
            items = dict(self._load())
            current = items.get(item_id, EMPTY)
            if base_rev != current.rev:
                raise Conflict(item_id, base_rev, current)
            new = StoredItem(value=value, rev=current.rev + 1, updated=now_iso())
            items[item_id] = new
            self._save(items, self._settings)
            return new

    def set_setting(self, name: str, value: bool) -> Settings:
        """Store one of the learner's tracker settings (see DEFAULT_SETTINGS); the new settings."""
        if name not in DEFAULT_SETTINGS:
            raise KeyError(name)
        with self._lock:
            items = dict(self._load())
            settings = {**self._settings, name: value}
            self._save(items, settings)
            return dict(settings)

    def _save(self, items: dict[str, StoredItem], settings: Settings) -> None:
        document = {
            "schema_version": SCHEMA_VERSION,
            "course_id": self.course_id,
            "items": {item_id: entry.to_json() for item_id, entry in sorted(items.items())},
            "settings": settings,
        }
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            # The current file was read successfully by _load, so it is the last good version.
            shutil.copy2(self.path, self.backup_path)
        self._write_text_atomically(text)
        self._cache, self._settings, self._cache_key = items, dict(settings), self._file_key()

    def _write_text_atomically(self, text: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp_name, self.path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        # Make the rename itself durable (POSIX); harmless where directories cannot be opened.
        try:
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
