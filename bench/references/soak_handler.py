"""The handlers of the retention soak (`bench/retention.py`): one handler for every event that does nothing, so
every stored event is claimed, run and finished (`handled`), which is what makes its body prunable."""

from xhooks import XHooks

hooks = XHooks()


@hooks.on_any
def handled(event: object, ctx: object) -> None:
    """Nothing to do: the soak measures the store, not a handler."""
