"""Erased bytes are not readable in the SQLite files afterwards: not in the database file, not in its WAL."""

from __future__ import annotations

from pathlib import Path

from tests.store.test_contract import _delivery
from xhooks.store.retention import DAY, RetentionPolicy
from xhooks.store.sqlite import SQLiteStore

T0 = 1_767_225_600.0
SECRET = b"the-private-words-of-user-7-0123456789"


def _body(user: str, text: bytes) -> bytes:
    return (
        b'{"for_user_id":"%s","direct_message_events":[{"id":"%s","message_create":{"message_data":{"text":"%s"}}}]}'
        % (
            user.encode(),
            text[-6:],
            text,
        )
    )


def _files(db: Path) -> bytes:
    return b"".join(path.read_bytes() for path in db.parent.glob(db.name + "*"))


async def test_forget_leaves_no_erased_byte_in_the_database_files(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = SQLiteStore(db)
    await store.start()
    try:
        # user 7's delivery shares its page with others that stay; the WAL still holds the page as first written
        # until the erasure checkpoints it (without the checkpoint, this test fails)
        await store.record(_delivery(_body("8", b"what-user-8-said-stays-here-9876"), at=T0))
        await store.record(_delivery(_body("7", SECRET), at=T0))
        await store.record(_delivery(_body("9", b"and-user-9-too-stays-here-12345"), at=T0))
        assert SECRET in _files(db)  # the check can fail: the text is there before
        record = await store.erase("7", "forget", T0 + 1)
        assert record.deliveries == 1
        assert SECRET not in _files(db)
        assert b"what-user-8-said-stays-here-9876" in _files(db)
    finally:
        await store.close()
    assert SECRET not in _files(db)


async def test_pruned_bytes_are_overwritten_too(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    store = SQLiteStore(db)
    await store.start()
    try:
        await store.record(_delivery(_body("7", SECRET), at=T0))
        (claimed,) = await store.claim("w", 1, 30.0, T0)
        assert await store.complete(claimed.event.id, "w", T0)
        assert (await store.prune(RetentionPolicy(body_days=1), T0 + 2 * DAY)).bodies == 1
    finally:
        await store.close()  # closing the last connection checkpoints the WAL into the file
    assert SECRET not in _files(db)
