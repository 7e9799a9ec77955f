"""Reference (b): the same logic written the usual way with FastAPI, plus an in-memory set for deduplication.

What a user writes instead of the quickstart: routes with parameters, the quickstart's HMAC check, the body
parsed as JSON and the event id pulled out and remembered in a set. Nothing is written to disk, so a crash
loses everything acknowledged and a restart forgets what was seen. Served by uvicorn with httptools and
uvloop, the same server settings as xhooks.
"""

import base64
import hashlib
import hmac
import json
import os
from typing import Any

from fastapi import FastAPI, Header, HTTPException, Query, Request, Response

app = FastAPI()

CONSUMER_SECRET = os.environ["BENCH_CONSUMER_SECRET"].encode()
seen_event_ids: set[str] = set()


def _sign(message: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(CONSUMER_SECRET, message, hashlib.sha256).digest()).decode()


def _event_id(event: dict[str, Any]) -> str:
    data = event.get("data")
    if isinstance(data, dict):
        return str(data.get("event_uuid") or data.get("id"))
    for name, value in event.items():
        if name.endswith("_events") and isinstance(value, list) and value:
            item = value[0]
            ident = item.get("id_str") or item.get("id") or item.get("created_timestamp")
            return f"{event.get('for_user_id')}:{name}:{ident}"
    return hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()


@app.get("/webhook")
def crc(crc_token: str = Query(...)) -> dict[str, str]:
    return {"response_token": _sign(crc_token.encode())}


@app.post("/webhook")
async def receive(request: Request, x_twitter_webhooks_signature: str = Header(default="")) -> Response:
    body = await request.body()
    if not hmac.compare_digest(_sign(body), x_twitter_webhooks_signature):
        raise HTTPException(status_code=403, detail="bad signature")
    event = json.loads(body)
    event_id = _event_id(event)
    if event_id in seen_event_ids:
        return Response(status_code=200)
    seen_event_ids.add(event_id)
    return Response(status_code=200)
