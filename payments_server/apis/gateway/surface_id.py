"""The gateway's own API's name, as orders, sessions and the activity log give it."""

API = "gateway"
