"""The overview's per-path counts, relay sinks and storage (issues 14, 16 and 15), read from a real SQLite store."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from tests.support import serve_app
from xhooks.clock import ManualClock
from xhooks.dashboard import DashboardConfig
from xhooks.dashboard.app import Dashboard
from xhooks.store import Delivery, DeliveryPath
from xhooks.store.base import byte_size
from xhooks.store.pruner import Pruner
from xhooks.store.retention import RetentionPolicy
from xhooks.store.sqlite import SQLiteStore

NOW = 1_767_225_600.0


def _xaa(uuid: str) -> bytes:
    return f'{{"data":{{"event_uuid":"{uuid}","event_type":"post.create","filter":{{"user_id":"1"}}}}}}'.encode()


def _rows(html: str, table: str) -> list[list[str]]:
    """The cells' text of each data row of table `#table`."""
    body = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return [[re.sub(r"<[^>]+>", "", cell).strip() for cell in row] for row in rows if row]


def _row(html: str, table: str, first_cell: str) -> list[str]:
    """The cells' text of the row of table `#table` whose first cell is `first_cell`."""
    for cells in _rows(html, table):
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"no row {first_cell!r} in #{table}")


async def test_the_overview_counts_each_path_and_shows_each_sinks_backlog_rate_and_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    await store.start()
    try:
        for n in range(3):  # on both paths, the stream first
            await store.record(Delivery.received("/webhook", _xaa(f"b{n}"), NOW + n, path=DeliveryPath.STREAM))
            await store.record(Delivery.received("/webhook", _xaa(f"b{n}"), NOW + n + 1))
        await store.record(Delivery.received("/webhook", _xaa("w"), NOW + 5))
        claimed = [item.event.id for item in await store.relay_claim("bus", "r", 3, 30.0, NOW + 10)]
        assert await store.relay_complete("bus", claimed[:2], "r", NOW + 20) == 2
        assert await store.relay_fail("bus", claimed[2], "r", "HTTP 503 from the bus", None, NOW + 21)
        dashboard = Dashboard(store, DashboardConfig(), clock=lambda: NOW + 30)
        with serve_app(dashboard) as url:
            async with httpx.AsyncClient(base_url=url) as http:
                html = (await http.get("/_xhooks/")).text
                empty = SQLiteStore(tmp_path / "empty.db")
                await empty.start()
                dashboard.store = empty  # a store never relayed to shows the invitation instead
                bare = (await http.get("/_xhooks/")).text
                await empty.close()
    finally:
        await store.close()
    assert "ignored (own actions)" in html
    assert _row(html, "paths", "webhook") == ["webhook", "4", "1"]
    assert _row(html, "paths", "stream") == ["stream", "3", "3"]
    sink = _row(html, "sinks", "bus")
    assert sink[1:5] == ["1", "0.03/s", "2", "1"]  # backlog: the fourth, taken in and not sent; 2 sent in 60 s: 0.03/s
    assert sink[6] == "HTTP 503 from the bus"
    assert 'id="sinks"' not in bare and "No relay sink has run on this store" in bare


def _aaa_dm(event_id: str, user_id: str) -> bytes:
    return (
        f'{{"for_user_id":"{user_id}","direct_message_events":[{{"type":"message_create","id":"{event_id}",'
        f'"message_create":{{"sender_id":"9","target":{{"recipient_id":"{user_id}"}},"message_data":{{"text":"hi"}}}}}}]}}'
    ).encode()


async def test_the_event_page_lists_every_attempt_and_the_overview_every_erasure(tmp_path: Path) -> None:
    """Issue 15: each handler attempt (time, duration, outcome, error) on the event's page, and the audit record
    of each erasure on the overview."""
    store = SQLiteStore(tmp_path / "x.db")
    await store.start()
    try:
        await store.record(Delivery.received("/webhook", _aaa_dm("100", "7"), NOW))
        await store.record(Delivery.received("/webhook", _aaa_dm("200", "8"), NOW))
        (first, second) = await store.claim("worker-a", 2, 30.0, NOW + 1)
        assert await store.fail(first.event.id, "worker-a", "Traceback …\nKeyError: 'text'", NOW + 5, NOW + 1.25)
        assert await store.complete(second.event.id, "worker-a", NOW + 2)
        (again,) = await store.claim("worker-b", 1, 30.0, NOW + 6)
        assert await store.complete(again.event.id, "worker-b", NOW + 6.5)
        await store.erase("8", "GDPR request 42", NOW + 10)
        dashboard = Dashboard(store, DashboardConfig(), clock=lambda: NOW + 30)
        with serve_app(dashboard) as url:
            async with httpx.AsyncClient(base_url=url) as http:
                page = (await http.get(f"/_xhooks/events/{first.event.id}")).text
                overview = (await http.get("/_xhooks/")).text
    finally:
        await store.close()
    retried = _row(page, "attempts", "1")
    assert retried[2:5] == ["0.250 s", "worker-a", "retry"]
    assert "KeyError: &#39;text&#39;" in retried[5] and "Traceback" in page
    assert _row(page, "attempts", "2")[2:6] == ["0.500 s", "worker-b", "handled", "—"]
    ((_, *erased),) = _rows(overview, "erasures")
    assert erased == ["user:8", "1", "1", "GDPR request 42"]


def _cards(html: str) -> dict[str, str]:
    """The storage cards as {label: value}, tags stripped."""
    body = html.split('id="storage"', 1)[1].split("</div>\n<p", 1)[0]
    pairs = re.findall(r'<span class="n">(.*?)</span><span>(.*?)</span>', body, re.S)
    return {re.sub(r"<[^>]+>", "", label).strip(): re.sub(r"<[^>]+>", "", value).strip() for value, label in pairs}


async def test_the_overview_shows_store_size_free_disk_oldest_body_and_the_next_prune(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    await store.start()
    clock = ManualClock(NOW)
    pruner = Pruner(store, RetentionPolicy(interval=3600), clock)
    try:
        await store.record(Delivery.received("/webhook", _xaa("old"), NOW - 86400))
        await store.mark("alert:disk_low", NOW - 60, NOW - 60, 0.0)  # the watcher's alert, still firing
        size = (await store.storage()).size
        with serve_app(Dashboard(store, DashboardConfig(), clock=lambda: NOW, pruner=pruner)) as url:
            async with httpx.AsyncClient(base_url=url) as http:
                page = (await http.get("/_xhooks/")).text
                before = _cards(page)
                pruner.next_at = NOW + 3600  # what a finished round leaves
                after = _cards((await http.get("/_xhooks/")).text)
        with serve_app(Dashboard(store, DashboardConfig())) as url:
            elsewhere = _cards(httpx.get(url + "/_xhooks/").text)
    finally:
        await store.close()
    assert before["store size"] == byte_size(size)
    [(free_label, free)] = [(label, value) for label, value in before.items() if label.startswith("free disk (")]
    assert re.fullmatch(r"free disk \(\d+ % of [\d.]+ [KMGT]iB\)", free_label) and re.fullmatch(
        r"[\d.]+ [KMGT]iB", free
    )
    assert before["oldest body kept"] == "2025-12-31 00:00:00 UTC"
    assert (before["next prune"], after["next prune"]) == ("now", "2026-01-01 01:00:00 UTC")
    assert elsewhere["next prune (not run by this process)"] == "unknown"
    assert "Watcher alert disk_low, firing since 2025-12-31 23:59 UTC." in page
