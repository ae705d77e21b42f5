-- POST /pay, a small amount to one recipient.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"amount": 0.01, "recipient": "bench"}'
wrk.path = "/pay"
