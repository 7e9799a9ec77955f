"""Reference (a): the Flask endpoint of X's webhooks quickstart, with the quickstart's own signature check.

This is what a user deploys from X's docs: the "Flask (full endpoint)" example, plus the quickstart's
`verify_signature` function called on the raw body (the example itself forgets to). Nothing else is added:
no storage, no deduplication. The quickstart prints every event; the benchmark sends stdout to /dev/null.
Run it under gunicorn: `gunicorn -w 1 -k sync bench.references.flask_quickstart:app`.
"""

import base64
import hashlib
import hmac
import os

from flask import Flask, jsonify, request

app = Flask(__name__)

CONSUMER_SECRET = os.environ["BENCH_CONSUMER_SECRET"]


def verify_signature(payload, signature_header, consumer_secret):  # type: ignore[no-untyped-def]
    expected = "sha256=" + base64.b64encode(
        hmac.new(consumer_secret.encode("utf-8"), payload, hashlib.sha256).digest()
    ).decode("utf-8")
    return hmac.compare_digest(expected, signature_header)


@app.route("/webhook", methods=["GET", "POST"])
def webhook():  # type: ignore[no-untyped-def]
    if request.method == "GET":
        crc_token = request.args.get("crc_token")
        if crc_token:
            sha256_hash = hmac.new(
                CONSUMER_SECRET.encode("utf-8"),
                crc_token.encode("utf-8"),
                hashlib.sha256,
            ).digest()
            response_token = "sha256=" + base64.b64encode(sha256_hash).decode("utf-8")
            return jsonify({"response_token": response_token}), 200
        return "Missing crc_token", 400

    elif request.method == "POST":
        if not verify_signature(  # type: ignore[no-untyped-call]
            request.get_data(), request.headers.get("x-twitter-webhooks-signature", ""), CONSUMER_SECRET
        ):
            return "", 403
        event = request.get_json()
        print("Received event:", event)
        return "", 200
