"""The learner's store: revisions, conflicts, atomic writes and recovery from a corrupt file."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from nbcourse.tracker.store import EMPTY, SCHEMA_VERSION, Conflict, Store, StoreError

COURSE = "fixture-course"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "data" / f"{COURSE}.json", COURSE)


def test_empty_store_reads_as_never_written(store: Store) -> None:
    assert store.read_all() == {}
    assert store.get("m1.q") == EMPTY
    assert not store.path.exists()


def test_set_creates_file_with_schema_and_bumps_revision(store: Store) -> None:
    first = store.set("m1.q", True, base_rev=0)
    second = store.set("m1.q", False, base_rev=1)
    assert (first.rev, second.rev) == (1, 2)
    document = json.loads(store.path.read_text())
    assert document["schema_version"] == SCHEMA_VERSION
    assert document["course_id"] == COURSE
    assert document["items"]["m1.q"]["value"] is False
    assert document["items"]["m1.q"]["rev"] == 2
    assert document["items"]["m1.q"]["updated"].endswith("Z")


def test_stale_revision_raises_conflict_with_current_value(store: Store) -> None:
    store.set("journal", "first tab", base_rev=0)
    with pytest.raises(Conflict) as caught:
        store.set("journal", "second tab", base_rev=0)
    assert caught.value.current.value == "first tab"
    assert caught.value.current.rev == 1
    assert store.get("journal").value == "first tab"


def test_a_new_store_object_sees_the_written_values(store: Store) -> None:
    store.set("name", "Ada", base_rev=0)
    again = Store(store.path, COURSE)
    assert again.get("name").value == "Ada"
    assert again.get("name").rev == 1


def test_previous_version_is_kept_as_bak(store: Store) -> None:
    store.set("name", "Ada", base_rev=0)
    store.set("name", "Ada Lovelace", base_rev=1)
    backup = json.loads(store.backup_path.read_text())
    assert backup["items"]["name"]["value"] == "Ada"


def test_no_temporary_files_are_left_behind(store: Store) -> None:
    for rev in range(5):
        store.set("n", str(rev), base_rev=rev)
    leftovers = [p.name for p in store.path.parent.iterdir()]
    assert sorted(leftovers) == sorted([store.path.name, store.backup_path.name])


def test_corrupt_file_is_kept_aside_and_backup_restored(store: Store) -> None:
    store.set("name", "Ada", base_rev=0)
    store.set("journal", "today I learned", base_rev=0)
    # A crash or a bad editor leaves the main file half written.
    store.path.write_text('{"schema_version": 1, "course_id": "fixture-cou')
    fresh = Store(store.path, COURSE)
    values = fresh.read_all()
    assert values["name"].value == "Ada"  # the .bak holds the state before the last write
    assert fresh.last_recovery is not None and "corrupt" in fresh.last_recovery
    kept = list(store.path.parent.glob(f"{store.path.name}.corrupt-*"))
    assert len(kept) == 1
    assert kept[0].read_text().startswith('{"schema_version": 1')
    # The main file is valid again and writable.
    json.loads(store.path.read_text())
    fresh.set("name", "Ada L.", base_rev=1)
    assert Store(store.path, COURSE).get("name").value == "Ada L."


def test_corrupt_file_without_backup_starts_empty_but_keeps_the_file(store: Store) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text("not json at all")
    assert store.read_all() == {}
    assert "no valid backup" in (store.last_recovery or "")
    kept = list(store.path.parent.glob(f"{store.path.name}.corrupt-*"))
    assert [p.read_text() for p in kept] == ["not json at all"]


def test_wrong_value_type_in_file_counts_as_corrupt(store: Store) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "course_id": COURSE,
                "items": {"x": {"value": [1, 2], "rev": 1, "updated": None}},
            }
        )
    )
    assert store.read_all() == {}
    assert "item 'x'" in (store.last_recovery or "")


def test_unknown_schema_version_is_an_error_and_file_untouched(store: Store) -> None:
    store.path.parent.mkdir(parents=True)
    content = json.dumps({"schema_version": 99, "course_id": COURSE, "items": {}})
    store.path.write_text(content)
    with pytest.raises(StoreError, match="unknown schema_version 99"):
        store.read_all()
    with pytest.raises(StoreError):
        store.set("x", True, base_rev=0)
    assert store.path.read_text() == content
    assert not list(store.path.parent.glob("*.corrupt-*"))


def test_store_of_another_course_is_refused(store: Store) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_text(json.dumps({"schema_version": 1, "course_id": "other", "items": {}}))
    with pytest.raises(StoreError, match="belongs to course 'other'"):
        store.read_all()


def test_concurrent_writers_with_same_base_rev_exactly_one_wins(store: Store) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def writer(n: int) -> None:
        barrier.wait()
        try:
            store.set("shared", f"writer {n}", base_rev=0)
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert outcomes.count("conflict") == 7
    assert store.get("shared").rev == 1


def test_settings_default_to_private_and_survive_item_writes(store: Store) -> None:
    assert store.settings() == {"share": False}
    store.set("m1.q", True, base_rev=0)
    # A file written before settings existed (no "settings" key) reads as private.
    assert "settings" in json.loads(store.path.read_text())
    document = json.loads(store.path.read_text())
    del document["settings"]
    store.path.write_text(json.dumps(document))
    assert Store(store.path, COURSE).settings() == {"share": False}
    assert store.set_setting("share", True) == {"share": True}
    store.set("m1.q", False, base_rev=1)
    reopened = Store(store.path, COURSE)
    assert reopened.settings() == {"share": True}
    assert reopened.get("m1.q").value is False
    with pytest.raises(KeyError):
        store.set_setting("no_such_setting", True)


def test_settings_come_back_with_the_backup(store: Store) -> None:
    store.set_setting("share", True)
    store.set("m1.q", True, base_rev=0)  # the .bak now holds share=True
    store.path.write_text("{ corrupt")
    assert Store(store.path, COURSE).settings() == {"share": True}
