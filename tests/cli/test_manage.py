"""Each management command as a real `xhooks` subprocess against a running emulator, as tables and as `--json`."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.emulator.conftest import Consumer
from tests.support import serve_app, xhooks_cmd
from xhooks.clock import SystemClock
from xhooks.emulator import Emulator, EmulatorConfig


@dataclass
class Setup:
    env: dict[str, str]
    hook_url: str
    dev_id: str
    friend_id: str
    emulator: Emulator
    home: Path
    """The commands' working directory by default: no xhooks.toml, .xhooks/dev.json or xhooks.db of the
    developer's is read or written (`subscriptions remove` erases in ./xhooks.db when it exists)."""

    def run(
        self, *args: str, cwd: Path | None = None, extra: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            xhooks_cmd(*args),
            capture_output=True,
            text=True,
            timeout=60,
            env={**self.env, **(extra or {})},
            cwd=cwd or self.home,
        )

    def json(self, *args: str, **env: str) -> Any:
        done = self.run(*args, "--json", extra=env)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    # A real clock, so that the CLI's "2h ago" and the emulator's replay window agree.
    emulator = Emulator(EmulatorConfig(allow_local_urls=True, remote_urls=False, seed=1, max_webhooks=2), SystemClock())
    creds = emulator.credentials()
    app, dev, friend = creds["apps"][0], creds["users"][0], creds["users"][1]
    with serve_app(emulator) as api, serve_app(Consumer(app["consumer_secret"])) as consumer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("XHOOKS_")}
        env.update(
            XHOOKS_API_BASE=api,
            XHOOKS_BEARER_TOKEN=app["bearer_token"],
            XHOOKS_CONSUMER_KEY=app["consumer_key"],
            XHOOKS_CONSUMER_SECRET=app["consumer_secret"],
            XHOOKS_ACCESS_TOKEN=dev["access_token"],
            XHOOKS_ACCESS_TOKEN_SECRET=dev["access_token_secret"],
        )
        home = tmp_path / "home"
        home.mkdir()
        yield Setup(env, consumer + "/webhook", dev["id"], friend["id"], emulator, home)


def test_webhooks_create_list_validate_delete(setup: Setup) -> None:
    hook = setup.json("webhooks", "create", setup.hook_url)
    assert (hook["url"], hook["valid"]) == (setup.hook_url, True)
    assert hook["rate_limit"]["limit"] == 450
    assert [h["id"] for h in setup.json("webhooks", "list")["items"]] == [hook["id"]]
    table = setup.run("webhooks", "list")
    assert table.returncode == 0 and hook["id"] in table.stdout and "rate limit:" in table.stdout
    assert setup.json("webhooks", "validate", hook["id"])["valid"] is True
    assert setup.json("webhooks", "delete", hook["id"])["deleted"] is True
    assert setup.json("webhooks", "list")["items"] == []


def test_an_x_error_is_one_line_with_the_reason_and_exit_2(setup: Setup) -> None:
    done = setup.run("webhooks", "delete", "1234")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: X answered 400 WebhookIdInvalid")
    assert "Traceback" not in done.stderr


def test_subscriptions_add_check_list_count_remove(setup: Setup) -> None:
    hook = setup.json("webhooks", "create", setup.hook_url)["id"]
    assert setup.json("subscriptions", "add", "--webhook", hook)["subscribed"] is True
    assert setup.json("subscriptions", "check", XHOOKS_WEBHOOK_ID=hook)["subscribed"] is True
    assert setup.json("subscriptions", "list", "--webhook", hook)["user_ids"] == [setup.dev_id]
    assert setup.json("subscriptions", "count")["subscriptions_count_all"] == "1"
    removed = setup.json("subscriptions", "remove", "--webhook", hook, "--user", setup.dev_id)
    assert removed["subscribed"] is False
    assert setup.run("subscriptions", "count").stdout.count("subscriptions_count_all") == 1


def _store_with_a_dm_of(db: Path, user_id: str) -> None:
    import asyncio

    from xhooks.store import Delivery
    from xhooks.store.sqlite import SQLiteStore

    body = (
        f'{{"for_user_id":"{user_id}","direct_message_events":[{{"type":"message_create","id":"77",'
        f'"message_create":{{"sender_id":"9","target":{{"recipient_id":"{user_id}"}},"message_data":{{"text":"hi"}}}}}}]}}'
    )

    async def fill() -> None:
        store = SQLiteStore(db)
        await store.start()
        await store.record(Delivery.received("/webhook", body.encode(), 1.0))
        await store.close()

    asyncio.run(fill())


@pytest.mark.parametrize(
    ("flags", "env", "erased"),
    [
        pytest.param((), {}, True, id="erases"),
        pytest.param(("--keep-stored",), {}, False, id="keep-stored"),
        pytest.param((), {"XHOOKS_RETENTION_ERASE_ON_UNSUBSCRIBE": "false"}, False, id="setting-off"),
    ],
)
def test_subscriptions_remove_erases_what_the_store_holds_of_the_user(
    setup: Setup, tmp_path: Path, flags: tuple[str, ...], env: dict[str, str], erased: bool
) -> None:
    """Issue 15: X sends no event when an app unsubscribes a user, so xhooks erases as it asks X."""
    from tests.support import read_store

    hook = setup.json("webhooks", "create", setup.hook_url)["id"]
    assert setup.json("subscriptions", "add", "--webhook", hook)["subscribed"] is True
    db = tmp_path / "xhooks.db"
    _store_with_a_dm_of(db, setup.dev_id)
    done = setup.run(
        "subscriptions", "remove", "--webhook", hook, "--user", setup.dev_id, "--db", str(db), *flags, extra=env
    )
    assert done.returncode == 0, done.stdout + done.stderr
    records = read_store(db, lambda store: store.stats()).erasures
    if erased:
        assert f"erased user:{setup.dev_id}" in done.stdout and "why: unsubscribed" in done.stdout
        assert [(r.reason, r.deliveries, r.events) for r in records] == [("unsubscribed", 1, 1)]
    else:
        assert "erased" not in done.stdout and records == []


def test_subscriptions_remove_without_a_store_erases_nothing_and_creates_none(setup: Setup, tmp_path: Path) -> None:
    hook = setup.json("webhooks", "create", setup.hook_url)["id"]
    assert setup.json("subscriptions", "add", "--webhook", hook)["subscribed"] is True
    missing = tmp_path / "none.db"
    done = setup.run("subscriptions", "remove", "--webhook", hook, "--user", setup.dev_id, "--db", str(missing))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing stored of user" in done.stderr and not missing.exists()


def test_subscriptions_without_a_webhook_say_how_to_give_one(setup: Setup) -> None:
    done = setup.run("subscriptions", "check")
    assert done.returncode == 2 and "XHOOKS_WEBHOOK_ID" in done.stderr


def test_activity_create_list_update_delete(setup: Setup) -> None:
    hook = setup.json("webhooks", "create", setup.hook_url)["id"]
    ids = [
        setup.json("activity", "create", kind, "--user-id", setup.dev_id, "--tag", "t", "--webhook", hook)[
            "subscription_id"
        ]
        for kind in ("post.create", "profile.update.bio", "follow.follow")
    ]
    listed = setup.json("activity", "list", "--max-results", "2")
    assert [s["subscription_id"] for s in listed["items"]] == ids and listed["total_subscriptions"] == 3
    assert setup.json("activity", "update", ids[0], "--tag", "renamed")["tag"] == "renamed"
    assert setup.json("activity", "delete", ids[0])["deleted"] is True
    both = setup.json("activity", "delete", ids[1], "999")
    assert both["deleted"] == [ids[1]] and both["failed"][0]["subscription_id"] == "999"
    assert ids[2] in setup.run("activity", "list").stdout


def test_links_add_list_remove(setup: Setup) -> None:
    hook = setup.json("webhooks", "create", setup.hook_url)["id"]
    assert setup.json("links", "add", hook, "--field", "expansions=author_id")["provisioned"] is True
    assert setup.json("links", "list")["items"][0]["fields"] == ["expansions=author_id"]
    assert hook in setup.run("links", "list").stdout
    assert setup.json("links", "remove", hook)["deleted"] is True
    bad = setup.run("links", "add", hook, "--field", "expansions")
    assert bad.returncode == 2 and "NAME=VALUE" in bad.stderr


def test_rules_add_list_delete(setup: Setup) -> None:
    added = setup.json("rules", "add", "cat has:images", "--tag", "cats")
    assert added["summary"]["created"] == 1
    setup.json("rules", "add", "dog")
    assert [r["value"] for r in setup.json("rules", "list")["items"]] == ["cat has:images", "dog"]
    assert "cat has:images" in setup.run("rules", "list").stdout
    assert setup.json("rules", "delete", "--id", added["items"][0]["id"])["summary"]["deleted"] == 1
    assert setup.json("rules", "delete", "--value", "dog")["summary"]["deleted"] == 1
    assert setup.json("rules", "list")["items"] == []


def test_replay_with_friendly_times(setup: Setup) -> None:
    setup.emulator.replay_delay = 60.0  # the first job must still run when the second asks (a CLI start takes ~1 s)
    hook = setup.json("webhooks", "create", setup.hook_url)["id"]
    job = setup.json("replay", "--webhook", hook, "--from", "2h ago", "--to", "10m ago")
    assert job["job_id"]
    table = setup.run("replay", "--webhook", hook, "--from", "3h ago")
    assert table.returncode == 2 and "ReplayConflictError" in table.stderr


@pytest.mark.parametrize(
    ("start", "end", "words"),
    [
        pytest.param("25h ago", "now", "past 24 hours", id="too-old"),
        pytest.param("1h ago", "2h ago", "swap", id="reversed"),
        pytest.param("yesterday", "now", "cannot read", id="unreadable"),
    ],
)
def test_replay_window_is_checked_before_sending(setup: Setup, start: str, end: str, words: str) -> None:
    done = setup.run("replay", "--webhook", "1", "--from", start, "--to", end)
    assert done.returncode == 2 and words in done.stderr
    assert "WebhookIdInvalid" not in done.stderr  # refused locally: webhook 1 does not exist on the emulator


def test_flags_beat_environment_beat_xhooks_toml(setup: Setup, tmp_path: Path) -> None:
    good = setup.env["XHOOKS_BEARER_TOKEN"]
    (tmp_path / "xhooks.toml").write_text(f'bearer_token = "{good}"\napi_base = "{setup.env["XHOOKS_API_BASE"]}"\n')
    from_file = subprocess.run(
        xhooks_cmd("webhooks", "list", "--json"),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={k: v for k, v in setup.env.items() if k not in ("XHOOKS_BEARER_TOKEN", "XHOOKS_API_BASE")},
    )
    assert from_file.returncode == 0, from_file.stderr
    env_wins = setup.run("webhooks", "list", cwd=tmp_path, extra={"XHOOKS_BEARER_TOKEN": "wrong"})
    assert env_wins.returncode == 2 and "Unauthorized" in env_wins.stderr
    flag_wins = setup.run(
        "webhooks", "list", "--bearer-token", good, cwd=tmp_path, extra={"XHOOKS_BEARER_TOKEN": "wrong"}
    )
    assert flag_wins.returncode == 0
