"""How management results are shown: a rich table by default, JSON with `--json`."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import Any

import msgspec
import typer
from rich.console import Console
from rich.table import Column, Table

from xhooks.client.models import RateLimit

__all__ = ["emit"]

_HIDDEN = ("rate_limit", "items")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, msgspec.Struct):
        return " ".join(f"{k}={_cell(v)}" for k, v in msgspec.structs.asdict(value).items() if v is not None)
    if isinstance(value, tuple):
        return ", ".join(_cell(item) for item in value)
    return str(value)


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _rate_limit(limit: RateLimit | None) -> str | None:
    if limit is None or limit.remaining is None:
        return None
    reset = f", resets {datetime.fromtimestamp(limit.reset, UTC):%H:%M:%S} UTC" if limit.reset else ""
    return f"rate limit: {limit.remaining}/{limit.limit} left{reset}"


def _table(result: msgspec.Struct) -> Table:
    fields = msgspec.structs.asdict(result)
    items = fields.get("items")
    if isinstance(items, tuple):
        rows = [{k: _cell(v) for k, v in msgspec.structs.asdict(item).items()} for item in items]
        names = [name for name in (rows[0] if rows else {}) if name not in _HIDDEN]
        # Ids are what users copy into the next command: never cut them; fold the other columns instead.
        columns = [
            Column(name, overflow="fold", min_width=max(len(r[name]) for r in rows) if _is_id(name) else None)
            for name in names
        ]
        table = Table(*columns, show_header=bool(columns))
        for row in rows:
            table.add_row(*(row[name] for name in names))
        if not rows:
            table.add_row("(none)")
        return table
    table = Table("field", "value")
    for name, value in fields.items():
        if name not in _HIDDEN:
            table.add_row(name, _cell(value))
    return table


def emit(result: msgspec.Struct, as_json: bool) -> None:
    """Print `result`: its JSON (every field, `rate_limit` included) or a table and a rate-limit line."""
    if as_json:
        typer.echo(msgspec.json.encode(result).decode())
        return
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 240)  # no wrapping when piped
    console.print(_table(result))
    extra = {k: v for k, v in msgspec.structs.asdict(result).items() if k not in _HIDDEN and v is not None}
    if "items" in msgspec.structs.asdict(result) and extra:
        console.print("; ".join(f"{k}: {_cell(v)}" for k, v in extra.items()))
    footer = _rate_limit(getattr(result, "rate_limit", None))
    if footer:
        console.print(f"[dim]{footer}[/]")
