"""What only the PostgreSQL engine promises: several stores (receivers, workers) sharing one database.

Each test gets its own empty schema (`fresh_schema_url`); every store here is a separate pool, as separate
processes would be.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import asyncpg
import pytest

from tests.postgres_support import fresh_schema_url
from tests.support import free_port
from xhooks.errors import StoreError
from xhooks.store import Delivery, EventQuery
from xhooks.store._postgres_errors import mapped
from xhooks.store.postgres import FOREIGN_ERRORS, PostgresStore

pytestmark = pytest.mark.postgres

OpenStore = Callable[[], contextlib.AbstractAsyncContextManager[PostgresStore]]


def _delivery(body: bytes, at: float = 1000.0) -> Delivery:
    return Delivery.received("/webhook", body, at)


def _aaa(for_user: str, *tweet_ids: str) -> bytes:
    items = ",".join(f'{{"id_str":"{tweet}","text":"hi"}}' for tweet in tweet_ids)
    return f'{{"for_user_id":"{for_user}","tweet_create_events":[{items}]}}'.encode()


@pytest.fixture
def open_store(request: pytest.FixtureRequest) -> OpenStore:
    """Open another store on this test's schema: each one is a process of its own as far as the database knows."""
    url = fresh_schema_url(request.node.name)

    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[PostgresStore]:
        store = PostgresStore(url)
        await store.start()
        try:
            yield store
        finally:
            await store.close()

    return opened


async def test_same_events_at_two_receivers_are_stored_once(open_store: OpenStore) -> None:
    bodies = [_aaa(str(user), *(f"{user}{n}" for n in range(3))) for user in range(40)]
    async with open_store() as first, open_store() as second:
        intakes = await asyncio.gather(*(store.record(_delivery(body)) for body in bodies for store in (first, second)))
        stats = await first.stats()
    assert stats.deliveries == 80
    assert stats.events == 120
    assert stats.duplicates == 120
    assert sum(intake.new_events for intake in intakes) == 120
    assert sum(intake.duplicates for intake in intakes) == 120


async def test_an_event_twice_in_one_batch_is_one_event_and_a_sighting(open_store: OpenStore) -> None:
    body = _aaa("7", "1", "1")  # the same Post twice in one body, and the body twice in one batch
    async with open_store() as store:
        first, second = await asyncio.gather(store.record(_delivery(body)), store.record(_delivery(body)))
        (event,) = await store.events(EventQuery())
        assert (first.new_events, first.duplicates, second.new_events, second.duplicates) == (1, 1, 0, 2)
        assert event.duplicates == 3
        assert len(await store.sightings(event.id)) == 4


async def test_workers_side_by_side_keep_each_users_order_and_handle_each_event_once(open_store: OpenStore) -> None:
    users = [str(user) for user in range(6)]
    async with open_store() as receiver:
        await asyncio.gather(
            *(receiver.record(_delivery(_aaa(user, f"{user}-{n}"), at=float(n))) for n in range(15) for user in users)
        )
        expected = {}
        for user in users:
            expected[user] = [e.id for e in reversed(await receiver.events(EventQuery(for_user_id=user)))]
        async with receiver._connection("test") as conn:
            await conn.execute("CREATE TABLE effects (seq bigserial, event_id bigint UNIQUE, for_user_id text)")

    async def work(name: str) -> None:
        async with open_store() as store:
            while True:  # until nothing is left to claim (the test's timeout is the hang guard)
                claimed = await store.claim(name, limit=4, lease=30, now=1.0)
                if not claimed and not await store.events(EventQuery(status="pending", limit=1)):
                    return
                for item in claimed:
                    async with store.completing(item.event.id, name, now=2.0) as conn:
                        await asyncio.sleep(0.001)  # let another worker try to overtake
                        await conn.execute(
                            "INSERT INTO effects (event_id, for_user_id) VALUES ($1, $2)",
                            item.event.id,
                            item.event.for_user_id,
                        )
                if not claimed:
                    await store.wait_for_events(0.05)

    await asyncio.gather(*(work(f"w{n}") for n in range(4)))
    async with open_store() as store, store._connection("test") as conn:
        rows = await conn.fetch("SELECT event_id, for_user_id FROM effects ORDER BY seq")
        assert (await store.stats()).by_status == {"handled": 90}
    handled = {user: [row["event_id"] for row in rows if row["for_user_id"] == user] for user in users}
    assert handled == expected


async def test_an_idle_worker_is_woken_by_a_commit_elsewhere(open_store: OpenStore) -> None:
    async with open_store() as worker, open_store() as receiver:
        await worker.wait_for_events(0.0)  # the first call connects the listener and reports a wake-up
        waiting = asyncio.create_task(worker.wait_for_events(30.0))
        await asyncio.sleep(0.05)
        assert not waiting.done()
        await receiver.record(_delivery(_aaa("1", "1")))
        assert await asyncio.wait_for(waiting, 60.0) is True
        assert len(await worker.claim("w", limit=10, lease=30, now=1.0)) == 1


async def test_a_wait_without_commits_times_out(open_store: OpenStore) -> None:
    async with open_store() as worker:
        await worker.wait_for_events(0.0)
        assert await worker.wait_for_events(0.05) is False


async def test_transactional_writes_roll_back_when_the_lease_was_lost(open_store: OpenStore) -> None:
    async with open_store() as store:
        await store.record(_delivery(_aaa("1", "1")))
        async with store._connection("test") as conn:
            await conn.execute("CREATE TABLE effects (event_id bigint, worker text)")
        (late,) = await store.claim("slow", limit=1, lease=5, now=100.0)
        (again,) = await store.claim("fast", limit=1, lease=5, now=106.0)
        with pytest.raises(StoreError, match="no longer holds its lease"):
            async with store.completing(late.event.id, "slow", now=107.0) as conn:
                await conn.execute("INSERT INTO effects VALUES ($1, 'slow')", late.event.id)
        async with store.completing(again.event.id, "fast", now=108.0) as conn:
            await conn.execute("INSERT INTO effects VALUES ($1, 'fast')", again.event.id)
        async with store._connection("test") as conn:
            assert [tuple(row) for row in await conn.fetch("SELECT * FROM effects")] == [(again.event.id, "fast")]
        assert (await store.events(EventQuery()))[0].status == "handled"


async def test_a_failing_transactional_handler_leaves_no_effect_and_the_event_claimed(open_store: OpenStore) -> None:
    async with open_store() as store:
        await store.record(_delivery(_aaa("1", "1")))
        async with store._connection("test") as conn:
            await conn.execute("CREATE TABLE effects (event_id bigint)")
        (claimed,) = await store.claim("w", limit=1, lease=30, now=1.0)
        with pytest.raises(ZeroDivisionError):
            async with store.completing(claimed.event.id, "w", now=2.0) as conn:
                await conn.execute("INSERT INTO effects VALUES ($1)", claimed.event.id)
                _ = 1 / 0
        async with store._connection("test") as conn:
            assert await conn.fetchval("SELECT count(*) FROM effects") == 0
        assert (await store.events(EventQuery()))[0].status == "claimed"
        assert await store.fail(claimed.event.id, "w", "ZeroDivisionError", retry_at=None, now=3.0)


async def test_a_transactional_completion_wakes_a_waiter_of_this_process_at_once(open_store: OpenStore) -> None:
    """As `complete` does: the next event of the same user may be due now. Without it a bot's worker handled one
    user's events one per poll interval (the 2,000-event kill run: four a second on a busy machine)."""
    async with open_store() as store:
        await store.record(_delivery(_aaa("1", "1")))
        (claimed,) = await store.claim("w", limit=1, lease=30, now=1.0)
        while await store.wait_for_events(0.2):  # take every wake-up still on its way (the intake's NOTIFY)
            pass
        waiting = asyncio.ensure_future(store.wait_for_events(3600.0))
        await asyncio.sleep(0)
        async with store.completing(claimed.event.id, "w", now=2.0):
            pass
        assert await asyncio.wait_for(waiting, 10.0) is True  # a hang guard: without the wake-up, an hour


async def test_an_unreachable_server_is_a_store_error() -> None:
    store = PostgresStore(f"postgresql://postgres@127.0.0.1:{free_port()}/nothing", timeout=2.0)
    with pytest.raises(StoreError, match="is PostgreSQL running"):
        await store.start()


async def test_the_password_never_appears_in_messages() -> None:
    store = PostgresStore(f"postgresql://xhooks:s3cret@127.0.0.1:{free_port()}/nothing", timeout=2.0)
    with pytest.raises(StoreError) as caught:
        await store.start()
    assert "s3cret" not in str(caught.value) and "s3cret" not in repr(store)


@pytest.mark.parametrize(
    "foreign",
    [
        pytest.param(asyncpg.exceptions.ConnectionDoesNotExistError("closed"), id="connection-lost"),
        pytest.param(asyncpg.exceptions.AdminShutdownError("shutdown"), id="admin-shutdown"),
        pytest.param(asyncpg.exceptions.CannotConnectNowError("starting up"), id="cannot-connect-now"),
        pytest.param(asyncpg.exceptions.DiskFullError("disk full"), id="disk-full"),
        pytest.param(asyncpg.exceptions.InterfaceError("pool closing"), id="interface"),
        pytest.param(asyncpg.exceptions.InternalClientError("protocol"), id="internal-client"),
        pytest.param(ConnectionRefusedError(111, "refused"), id="refused"),
        pytest.param(TimeoutError(), id="timeout"),
    ],
)
def test_foreign_errors_become_store_errors_keeping_the_cause(foreign: BaseException) -> None:
    assert isinstance(foreign, FOREIGN_ERRORS)
    with pytest.raises(StoreError) as caught, mapped("could not commit"):
        raise foreign
    assert caught.value.__cause__ is foreign
    assert str(caught.value).startswith("could not commit")


@pytest.mark.parametrize(("durability", "setting"), [("disk", "on"), ("process", "off")])
async def test_durability_sets_synchronous_commit(durability: str, setting: str) -> None:
    store = PostgresStore(fresh_schema_url(f"durability_{durability}"), durability=durability)
    await store.start()
    try:
        async with store._connection("test") as conn:
            assert await conn.fetchval("SHOW synchronous_commit") == setting
    finally:
        await store.close()


async def test_a_relay_never_passes_over_an_event_that_commits_after_a_newer_one(open_store: OpenStore) -> None:
    """Ids are drawn before commit: an intake still open holds a lower id than one committed after it. The sink's
    cursor waits for that writer instead of moving past its event for good."""
    async with open_store() as store:
        slow = await asyncpg.connect(store.url)
        try:
            transaction = slow.transaction()
            await transaction.start()
            delivery_id = await slow.fetchval(
                "INSERT INTO deliveries (app, received_at, headers, body, secret_index, shape)"
                " VALUES ('/webhook', 1.0, '[]', $1, 0, 'account_activity') RETURNING id",
                _aaa("7", "1"),
            )
            older = await slow.fetchval(
                "INSERT INTO events (app, key, event_type, for_user_id, delivery_id, idx, received_at, last_seen_at,"
                " last_delivery_id) VALUES ('/webhook', 'aaa:7:tweet_create_events:1', 'tweet_create_events', '7',"
                " $1, 0, 1.0, 1.0, $1) RETURNING id",
                delivery_id,
            )
            await store.record(_delivery(_aaa("8", "2")))
            for _ in range(2):
                assert await store.relay_claim("bus", "r", 10, 30.0, 2000.0) == []
            await transaction.commit()
        finally:
            await slow.close()
        claimed = await store.relay_claim("bus", "r", 10, 30.0, 2000.0)
    assert [item.event.id for item in claimed] == [older, older + 1]
