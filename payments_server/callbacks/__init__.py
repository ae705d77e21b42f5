"""Talking to the store: signing, the HTTP client, retries, the delivery log, the dispatcher.

Imports core only.
"""
