"""Two gateway replicas behind Debian's nginx with deploy/nginx.conf as shipped (ports
aside): each namespace lives on the replica its name hashes to, and a replica killed and
restarted from its journal has lost nothing. Skipped without nginx, never under CI=true."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from gateway_process import GatewayProcess, free_port
from payments_server.testing import StoreStub

SHIPPED = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
NAMES = [f"team-{index}" for index in range(16)]


def _nginx() -> str:
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)),
        None,
    )
    if found is None:
        why = "no nginx: `sudo apt-get install nginx` (Debian) to run the replica test"
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return found


def _config(folder: Path, listen: int, replicas: list[int]) -> Path:
    """A whole nginx configuration around the shipped include, its ports replaced."""
    shipped = SHIPPED.read_text()
    for default, port in zip(("127.0.0.1:5001", "127.0.0.1:5002"), replicas, strict=True):
        assert default in shipped
        shipped = shipped.replace(default, f"127.0.0.1:{port}")
    assert "listen 5000;" in shipped
    (folder / "payments_server.conf").write_text(
        shipped.replace("listen 5000;", f"listen 127.0.0.1:{listen};")
    )
    temp = folder / "temp"
    temp.mkdir()
    main = folder / "nginx.conf"
    main.write_text(
        f"worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'};\n"
        "events { worker_connections 256; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {temp};\n"
        f"  proxy_temp_path {temp};\n  fastcgi_temp_path {temp};\n  uwsgi_temp_path {temp};\n"
        f"  scgi_temp_path {temp};\n  include {folder / 'payments_server.conf'};\n}}\n"
    )
    return main


@pytest.fixture
def nginx_in_front(tmp_path: Path) -> Iterator[tuple[str, list[GatewayProcess], StoreStub]]:
    """nginx on a free port in front of two replicas, each with its own state file."""
    binary = _nginx()
    with StoreStub() as store:
        replicas = [
            GatewayProcess("--callback-url", store.url, "--clock", "frozen",
                           "--state-file", str(tmp_path / f"replica-{n}.jsonl"))
            for n in (1, 2)
        ]  # fmt: skip
        for replica in replicas:
            replica.start()
        listen = free_port()
        config = _config(tmp_path, listen, [replica.port for replica in replicas])
        nginx = subprocess.Popen(
            [binary, "-p", str(tmp_path), "-c", str(config), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{listen}"
        try:
            _wait_for(url, nginx)
            yield url, replicas, store
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
            for replica in replicas:
                if replica.process and replica.process.poll() is None:
                    replica.stop()


def _wait_for(url: str, nginx: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if nginx.poll() is not None:
            raise AssertionError(
                f"nginx did not start: {nginx.stderr.read() if nginx.stderr else ''}"
            )
        try:
            requests.get(url + "/balance", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)  # nginx binds its port a moment after starting
    raise AssertionError("nginx did not listen within 10 s")


def _held(replica: GatewayProcess) -> set[str]:
    listed = requests.get(replica.url + "/namespaces", timeout=5).json()["namespaces"]
    return {space["name"] for space in listed} - {"default"}


def test_each_namespace_lives_on_one_replica_and_survives_its_restart(
    nginx_in_front: tuple[str, list[GatewayProcess], StoreStub],
) -> None:
    url, replicas, store = nginx_in_front
    for index, name in enumerate(NAMES):
        made = requests.put(f"{url}/namespaces/{name}", json={"balance": 100 + index}, timeout=5)
        assert made.status_code == 201, made.text
        # Half by the prefix, half by the header: both reach the namespace's replica.
        if index % 2:
            paid = requests.post(f"{url}/ns/{name}/payments/orders",
                                 json={"order_id": "1", "amount": 1}, timeout=5)  # fmt: skip
        else:
            paid = requests.post(f"{url}/payments/orders", json={"order_id": "1", "amount": 1},
                                 headers={"Payments-Namespace": name}, timeout=5)  # fmt: skip
        assert paid.json()["balance"] == 99 + index
    held = [_held(replica) for replica in replicas]
    # Spread over both, each on exactly one.
    assert held[0] and held[1] and not held[0] & held[1] and held[0] | held[1] == set(NAMES)
    owner = {name: replicas[0 if name in held[0] else 1] for name in NAMES}
    for name in NAMES:
        other = replicas[1] if owner[name] is replicas[0] else replicas[0]
        assert requests.get(f"{other.url}/namespaces/{name}", timeout=5).status_code == 404
    # Every callback came from its namespace's replica, and says which namespace.
    callbacks = store.wait_for(len(NAMES))
    assert sorted(c.headers["Payments-Namespace"] for c in callbacks) == sorted(NAMES)
    for name in NAMES:
        sent = requests.get(f"{owner[name].url}/ns/{name}/callbacks", timeout=5).json()
        assert [c["order_id"] for c in sent["callbacks"]] == ["1"]
    # A clock advance through nginx moves that namespace's clock on its replica only.
    first = NAMES[0]
    before = requests.get(f"{owner[first].url}/ns/{first}/clock", timeout=5).json()["now"]
    requests.post(f"{url}/ns/{first}/clock/advance", json={"seconds": 60}, timeout=5)
    after = requests.get(f"{owner[first].url}/ns/{first}/clock", timeout=5).json()["now"]
    assert after > before

    # Killed: its namespaces answer 502 and are not made afresh on the other replica.
    victim = owner[first]
    survivor = replicas[1] if victim is replicas[0] else replicas[0]
    victim.stop(signal.SIGKILL)
    assert requests.get(f"{url}/ns/{first}/balance", timeout=5).status_code == 502
    assert requests.get(f"{survivor.url}/namespaces/{first}", timeout=5).status_code == 404
    restarted = GatewayProcess(*victim.args[2:])
    restarted.port, restarted.url = victim.port, victim.url
    restarted.args = victim.args
    with restarted:
        assert _held(restarted) == _held_names(owner, victim)
        for index, name in enumerate(NAMES):
            balance = requests.get(f"{url}/ns/{name}/balance", timeout=5).json()["balance"]
            assert balance == 99 + index
            again = requests.post(f"{url}/ns/{name}/payments/orders",
                                  json={"order_id": "1", "amount": 1}, timeout=5)  # fmt: skip
            assert again.status_code == 409  # paid before the kill: still paid


def _held_names(owner: dict[str, GatewayProcess], replica: GatewayProcess) -> set[str]:
    return {name for name, where in owner.items() if where is replica}
