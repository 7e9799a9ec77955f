"""The HTTP sink's endpoint in the bench: reads each POST and answers 204, nothing more, so the relay's figures are
the relay's. (The tests' receiver verifies every signature; here that would measure the receiver.)"""

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
