"""Reference (c), the ceiling: a bare ASGI callable that checks the HMAC and answers, nothing more.

No framework, no parsing, no storage: the fastest a Python ASGI receiver can be under the same server
(uvicorn, httptools, uvloop) on this machine.
"""

import base64
import hashlib
import hmac
import os
from typing import Any
from urllib.parse import parse_qs

SECRET = os.environ["BENCH_CONSUMER_SECRET"].encode()


def _sign(message: bytes) -> bytes:
    return b"sha256=" + base64.b64encode(hmac.new(SECRET, message, hashlib.sha256).digest())


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    status, payload = 405, b""
    if scope["method"] == "GET":
        token = parse_qs(scope["query_string"].decode("latin-1")).get("crc_token", [""])[0]
        status, payload = (200, b'{"response_token":"' + _sign(token.encode()) + b'"}') if token else (400, b"")
    elif scope["method"] == "POST":
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        presented = dict(scope["headers"]).get(b"x-twitter-webhooks-signature", b"")
        status = 200 if hmac.compare_digest(_sign(b"".join(chunks)), presented) else 403
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
