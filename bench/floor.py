"""The floor: the least a Flask app can do to answer GET /balance, served like the gateway.

bench/run.py serves it with waitress and the gateway's thread count; payments_server's own
/balance is measured against it."""

from __future__ import annotations

import sys

from flask import Flask
from waitress import serve

app = Flask(__name__)


@app.get("/balance")
def balance() -> dict[str, object]:
    """The same body as the gateway's GET /balance."""
    return {"status": "success", "account_id": "ACC-001", "holder": "John Doe", "balance": 50000.0}


if __name__ == "__main__":
    serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=int(sys.argv[2]), _quiet=True)
