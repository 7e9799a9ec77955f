"""A service that takes relayed events, run as its own process (`python -m tests.relay._webhook_receiver PORT SECRET`)
so that it does not share the relay's interpreter: it verifies every POST with `standardwebhooks`, keeps the first
copy of each `webhook-id`, and answers a copy it already has 204 without keeping it again. `GET /arrived` lists what
it kept, in arrival order, with its counters.

Faults, switched by the tests: `POST /outage` `on` answers 503 to every event; `POST /refuse` `TYPE` answers 400 to
events of that type (empty: none); `POST /hold` `N` lets the first N events through and then holds every request
unanswered (`held` counts them) until `POST /hold` `off`.
"""

from __future__ import annotations

import asyncio
import json
import sys

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from xhooks._types import Receive, Scope, Send


class IdempotentReceiver:
    def __init__(self, secret: str) -> None:
        self.webhook = Webhook(secret)
        self.arrived: list[tuple[str, str | None]] = []
        self.copies = 0
        self.refused = 0
        self.outage = False
        self.refuse = ""
        self.hold_after: int | None = None
        self.held = 0
        self._released = asyncio.Event()
        self._seen: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if self.hold_after is not None and len(self.arrived) >= self.hold_after and scope["path"] == "/x-events":
            self.held += 1
            await self._released.wait()
        status, answer = self._answer(scope["path"], body, scope["headers"])
        await send(
            {"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]}
        )
        await send({"type": "http.response.body", "body": answer})

    def _answer(self, path: str, body: bytes, raw: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
        if path == "/arrived":
            report = {"arrived": self.arrived, "copies": self.copies, "refused": self.refused, "held": self.held}
            return 200, json.dumps(report).encode()
        if path in ("/outage", "/refuse", "/hold"):
            self._switch(path, body.decode())
            return 204, b""
        if self.outage:
            return 503, b""
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in raw}
        if self.refuse and headers.get("xhooks-event-type") == self.refuse:
            return 400, b'{"error":"refused by the test"}'
        try:
            self.webhook.verify(body, headers)
        except WebhookVerificationError:
            self.refused += 1
            return 401, b""
        key = headers["webhook-id"]
        if key in self._seen:
            self.copies += 1
        else:
            self._seen.add(key)
            user = headers.get("xhooks-for-user-id")
            self.arrived.append((key, None if user is None else f"{headers['xhooks-app']}\n{user}"))
        return 204, b""

    def _switch(self, path: str, value: str) -> None:
        if path == "/outage":
            self.outage = value == "on"
        elif path == "/refuse":
            self.refuse = value
        elif value == "off":
            self.hold_after = None
            self._released.set()
        else:
            self.hold_after = int(value)


if __name__ == "__main__":
    port, secret = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(IdempotentReceiver(secret), host="127.0.0.1", port=port, log_level="warning")
