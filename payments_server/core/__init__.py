"""State and rules: money, the account, orders, idempotency keys, simulation, the state file.

Nothing here knows Flask or HTTP, and nothing here imports the rest of the package.
"""
