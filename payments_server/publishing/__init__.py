"""Telling a broker what happened: payment events on Kafka (publishing/kafka.py)."""
