"""`xhooks dev`: the emulator and your receiver in one process, wired together; `xhooks dev env` for scripts."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from xhooks.config import Settings
from xhooks.dev import DevConfig, dev_environment_lines, run_dev
from xhooks.dispatch import load_hooks

__all__ = ["app", "dev_command", "env_command"]

app = typer.Typer(
    help="X's side and your receiver in one process: `xhooks dev --app bot:hooks`, then, from another terminal in"
    " the same directory, `xhooks trigger dm.received --text hi` (no flags: the commands read .xhooks/dev.json).",
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
def dev_command(
    ctx: typer.Context,
    app_spec: Annotated[
        str | None,
        typer.Option("--app", help="Your handlers, as module:attribute (e.g. bot:hooks). Env: XHOOKS_APP."),
    ] = None,
) -> None:
    """Start the emulator and a receiver on free loopback ports, register and subscribe, print each event and
    each handler outcome; Ctrl-C deletes what it registered."""
    if ctx.invoked_subcommand is not None:
        return
    spec = Settings.load().get("app", app_spec)
    config = DevConfig(hooks=load_hooks(str(spec)) if spec else None, app=str(spec) if spec else None)
    asyncio.run(_until_interrupted(config))


async def _until_interrupted(config: DevConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await run_dev(config, stop, lambda line: print(line, flush=True))


@app.command("env")
def env_command() -> None:
    """Print the running `xhooks dev`'s settings as export lines: eval "$(xhooks dev env)"."""
    for line in dev_environment_lines():
        typer.echo(line)
