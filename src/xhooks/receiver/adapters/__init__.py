"""Mount the receiver in an existing web app: `xhooks.receiver.adapters.flask`, `.starlette` (FastAPI too) and
`.django`. Each converts the framework's request and calls the same `Receiver`, so the answers (CRC,
401/403/413/503, 200 only after the commit) are exactly those of `xhooks serve`. Import the module of your
framework; the others are never imported."""

from xhooks.receiver.adapters._bridge import Reply, SyncReceiver, call_receiver

__all__ = ["Reply", "SyncReceiver", "call_receiver"]
