"""The article's store (seed 002), its code as the article prints it, run against the gateway.

Sections 1 to 3 of "Payment Gateway Integration for system design" are below unchanged,
but for the base URLs (https://payment-gateway.com becomes GATEWAY, https://your-app.com
STORE) and two slips of the article's: the scheduler line lacks its closing parenthesis,
and the status route's view has the name of the job's helper, which it would replace (it
is check_payment_status_route here). What
the article leaves to the reader is filled in above them: the app, its database, the
Transaction model, fulfill_order's record and verify_callback_authenticity (Standard
Webhooks, which is how the gateway signs). Run it with the gateway:

    make run                                  # the gateway, on :5000
    python examples/article_store/app.py      # this store, on :8000

then `curl -X POST localhost:8000/initiate-payment -H 'Content-Type: application/json'
-d '{"order_id": "o-1", "amount": 25}'` and open the payment_url it answers.
"""

from __future__ import annotations

import os
from datetime import datetime

import requests
import schedule
from flask import Flask, jsonify, request
from flask_sqlalchemy import SQLAlchemy
from standardwebhooks import Webhook, WebhookVerificationError

GATEWAY = os.environ.get("GATEWAY_URL", "http://127.0.0.1:5000/article")
STORE = os.environ.get("STORE_URL", "http://127.0.0.1:8000")
SECRET = os.environ.get(
    "WEBHOOK_SECRET", "whsec_cGF5bWVudHNfc2VydmVyLWRldi1zZWNyZXQtbm90LWZvci1wcm9k"
)

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("DATABASE_URL", "sqlite://")
db = SQLAlchemy(app)
FULFILLED: list[object] = []


class Transaction(db.Model):  # type: ignore[name-defined,misc]
    id = db.Column(db.Integer, primary_key=True)
    order_id = db.Column(db.String(255), nullable=False)
    amount = db.Column(db.Numeric(12, 2), nullable=False)
    status = db.Column(db.String(20), nullable=False)
    created_at = db.Column(db.DateTime, nullable=False, default=datetime.now)


def verify_callback_authenticity(request):
    try:
        Webhook(SECRET).verify(request.get_data(), dict(request.headers))
    except WebhookVerificationError:
        return False
    return True


with app.app_context():
    db.create_all()


# ---- the article's code, sections 1 to 3 ---------------------------------------------
# fmt: off


@app.route('/initiate-payment', methods=['POST'])
def initiate_payment():
    order_id = request.json['order_id']
    amount = request.json['amount']
    # Create a pending transaction in your database
    transaction = Transaction(order_id=order_id, amount=amount, status='pending')
    db.session.add(transaction)
    db.session.commit()
    # Request payment URL from gateway
    gateway_response = requests.post(f'{GATEWAY}/create-session', json={
        'amount': amount,
        'currency': 'USD',
        'callback_url': f'{STORE}/payment-callback',
        'transaction_id': transaction.id
    })
    payment_url = gateway_response.json()['payment_url']
    return jsonify({'payment_url': payment_url})


def check_pending_payments():
    pending_transactions = Transaction.query.filter_by(status='pending').all()
    for transaction in pending_transactions:
        if (datetime.now() - transaction.created_at).total_seconds() > 900:  # 15 minutes
            # Check with payment gateway
            status = check_payment_status(transaction.id)
            transaction.status = status
    db.session.commit()


def check_payment_status(transaction_id):
    response = requests.get(f'{GATEWAY}/status/{transaction_id}')
    return response.json()['status']


# Run this job every minute
schedule.every(1).minutes.do(check_pending_payments)


@app.route('/payment-callback', methods=['POST'])
def payment_callback():
    # Verify the callback authenticity (e.g., using a shared secret)
    if not verify_callback_authenticity(request):
        return 'Invalid callback', 400
    transaction_id = request.json['transaction_id']
    status = request.json['status']
    transaction = Transaction.query.get(transaction_id)
    transaction.status = status
    db.session.commit()
    if status == 'success':
        fulfill_order(transaction.order_id)
    return '', 200


@app.route('/check-payment-status/<transaction_id>', methods=['GET'])
def check_payment_status_route(transaction_id):
    transaction = Transaction.query.get(transaction_id)
    return jsonify({'status': transaction.status})


def fulfill_order(order_id):
    # Logic to fulfill the order
    FULFILLED.append(order_id)


# fmt: on

if __name__ == "__main__":
    app.run(port=int(os.environ.get("PORT", "8000")))
