"""Take the screenshots in docs/ of the main dashboard pages: `python -m tests.dashboard.screenshots`.

It runs the emulator and `xhooks serve`'s receiver with the dashboard on 127.0.0.1, makes some traffic
(events of several types, a duplicate, handled events and a dead letter), and photographs each page in
headless Chromium.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from tests.dashboard.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Stack,
    _emulator,
    dashboard_config,
    receiver_with_dashboard,
)
from tests.support import ROOT, read_store, serve_app
from xhooks.emulator.control import trigger_remote
from xhooks.store.sqlite import SQLiteStore

DOCS = ROOT / "docs"
TRIGGERS = ("aaa.follow", "aaa.favorite", "aaa.direct_message", "aaa.tweet_create", "aaa.mention", "aaa.retweet")


async def _work_some(db: Path) -> None:
    """Handle most events, dead-letter one, as a worker would."""
    store = SQLiteStore(db)
    await store.start()
    try:
        now = time.time()
        for turn in range(len(TRIGGERS) - 1):
            claimed = await store.claim("screenshot-worker", 1, 30.0, now)
            if not claimed:
                break
            event_id = claimed[0].event.id
            if turn == 1:
                await store.fail(event_id, "screenshot-worker", "TimeoutError: the CRM took over 10 s", None, now)
            elif turn == 3:
                await store.fail(event_id, "screenshot-worker", "HTTP 502 from the CRM", now + 600, now)
            else:
                await store.complete(event_id, "screenshot-worker", now)
    finally:
        await store.close()


def _traffic(stack: Stack) -> None:
    stack.subscribe()
    for name in TRIGGERS:
        trigger_remote(stack.emulator_url, name)
    deadline = time.monotonic() + 15
    while len(stack.events()) < len(TRIGGERS) and time.monotonic() < deadline:
        time.sleep(0.05)
    first = read_store(stack.db, lambda store: store.delivery(stack.events()[-1].delivery_id))
    assert first is not None
    headers = {"x-twitter-webhooks-signature": dict(first.headers)["x-twitter-webhooks-signature"]}
    httpx.post(stack.webhook_url, content=first.body, headers=headers)  # X delivers it twice
    asyncio.run(_work_some(stack.db))


def main() -> None:
    emulator = _emulator()
    with tempfile.TemporaryDirectory() as tmp, serve_app(emulator) as emulator_url:
        creds = emulator.credentials()
        bearer = creds["apps"][0]["bearer_token"]
        db = Path(tmp) / "xhooks.db"
        with receiver_with_dashboard(db, dashboard_config(emulator_url, bearer)) as url:
            stack = Stack(emulator, emulator_url, url, db, bearer, creds["users"][0])
            _traffic(stack)
            event = next(e for e in stack.events() if e.duplicates)
            pages = {
                "overview": f"{stack.dashboard}/",
                "live": f"{stack.dashboard}/live",
                "events": f"{stack.dashboard}/events",
                "event": f"{stack.dashboard}/events/{event.id}",
                "dead-letters": f"{stack.dashboard}/dead",
                "webhooks": f"{stack.dashboard}/webhooks",
                "replay": f"{stack.dashboard}/replay",
                "emulator": f"{emulator_url}/_xhooks/",
                "emulator-deliveries": f"{emulator_url}/_xhooks/deliveries",
            }
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                context = browser.new_context(viewport={"width": 1360, "height": 860}, timezone_id="Europe/Paris")
                page = context.new_page()
                for name, address in pages.items():
                    page.goto(address)
                    if name == "live":
                        page.wait_for_selector("#live-status.live")
                    page.screenshot(path=str(DOCS / f"dashboard-{name}.png"), full_page=name != "emulator")
                    print(f"docs/dashboard-{name}.png")
                browser.close()


if __name__ == "__main__":
    main()
