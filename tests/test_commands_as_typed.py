"""Every command the README and docs/ show without an answer, typed as shown in a copy of
the checkout, on the ports the pages name: `make run` on 5000, `make store` on 8000, the
replicas on 5001 and 5002, Kafka on 9092. The few a test cannot run are named, with why.

The copy is what a clone of this working tree holds (tracked files and new ones git does
not ignore) with the project's `.venv` linked in: making a venv needs the package index
and a minute, and `make test` has just made this one. Commands shown with their answer
(the curl examples) run in test_readme.py and test_docs.py, with only the base URL changed.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kafka_broker import need_kafka_client, read, start_broker

from gateway_process import GatewayProcess
from payments_server.__main__ import build_parser
from payments_server.check_store_command import build_parser as check_store_parser
from payments_server.config import ConfigError, Settings

ROOT = Path(__file__).resolve().parent.parent
GATEWAY = "http://localhost:5000"
STORE = "http://127.0.0.1:8000"

# Shown without an answer, and not run here: each with what it needs that a test cannot
# give, and where it runs instead.
NOT_RUN_HERE = {
    "make test": "the suite itself",
    "make fuzz": "runs in make test (tests/live/test_fuzz.py)",
    "make lint": "the first step of CI (.ci/run), before make test",
    "make format": "rewrites the working tree; make lint checks the same in CI",
    "make bench-smoke": "the step of CI after make test (.ci/run)",
    "make bench": "minutes of wrk; make bench-smoke, which runs the same harness, is in CI",
    "make profile": "needs ptrace for py-spy, which CI's container may not allow",
    ".venv/bin/python bench/clients.py": "a measurement, seconds of CPU; make bench-smoke"
    " runs the harness it imports",
    ".venv/bin/python bench/profile_orders.py": "a measurement, seconds of CPU; make"
    " bench-smoke runs the harness it imports",
    "sudo apt-get install wrk": "a system package; .ci/run installs it",
}
# The commands run here (by the start of what each page shows): every other one shown
# without an answer must be in NOT_RUN_HERE.
RUN_HERE = (
    "make run", "make store", "bash examples/checkout.sh",
    ".venv/bin/payments-server check-store", 'make run ARGS="--state-file',
    'make run ARGS="--clock-start', ".venv/bin/payments-server --port 500",
    'make run ARGS="--kafka-bootstrap-servers',
)  # fmt: skip


COMMAND = re.compile(r"^(make |\.venv/bin/|bash |sudo |pip |curl |payments-server |python)")
FENCE = re.compile(r"^```(\w*)\s*$")


def shown_commands() -> list[tuple[str, str]]:
    """(page, command) for each command in a code block with no answer block after it."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        blocks, lines, index = [], page.read_text().splitlines(), 0
        while index < len(lines):
            fence = FENCE.match(lines[index])
            if fence is None:
                index += 1
                continue
            end = next(j for j in range(index + 1, len(lines)) if lines[j].startswith("```"))
            blocks.append((fence.group(1), lines[index + 1 : end]))
            index = end + 1
        for (language, body), after in zip(
            blocks, [*blocks[1:], ("", [])][: len(blocks)], strict=True
        ):
            if language not in ("", "sh") or after[0] == "json":
                continue
            # A line ending in a backslash goes on on the next; a comment is not typed.
            joined = "\n".join(body).replace("\\\n", " ").splitlines()
            found += [(page.name, re.split(r"\s+#\s", line)[0].strip()) for line in joined
                      if COMMAND.match(line.strip())]  # fmt: skip
    return found


def test_what_each_command_shown_names_exists() -> None:
    """Checked without running anything: the make target, the options the CLI takes, the
    file a script is."""
    targets = set(re.findall(r"^([a-z-]+):", (ROOT / "Makefile").read_text(), re.M))
    seen = []
    for page, command in shown_commands():
        words = shlex.split(command)
        if words[0] == "make":
            assert words[1] in targets, f"{page}: {command}: no such make target"
            extra = [w.split("=", 1)[1] for w in words[2:] if w.startswith("ARGS=")]
            if words[1] == "run" and extra:
                _takes(page, command, shlex.split(extra[0]))
        elif words[0] == ".venv/bin/payments-server":
            if words[1:2] == ["check-store"]:
                _parses(page, command, check_store_parser(), words[2:])
            else:
                _takes(page, command, words[1:])
        elif words[0] in (".venv/bin/python", "bash"):
            assert (ROOT / words[1]).is_file(), f"{page}: {command}: no such file"
        else:
            assert command in NOT_RUN_HERE, f"{page}: {command}: neither checked nor named"
        seen.append(command)
    # The ones a newcomer types first are among them, so this test looks where it should.
    assert {"make run", "make test", "make store"} <= set(seen)


def _parses(
    page: str, command: str, parser: argparse.ArgumentParser, arguments: list[str]
) -> argparse.Namespace:
    """The arguments as the command line's parser reads them; the page named if not."""
    try:
        return parser.parse_args(arguments)
    except SystemExit:  # argparse has said why on stderr
        raise AssertionError(f"{page}: {command}: the command line refuses it") from None


def _takes(page: str, command: str, arguments: list[str]) -> None:
    """The CLI takes these options and the settings they make are valid."""
    args = _parses(page, command, build_parser(), arguments)
    try:
        Settings.from_sources(vars(args), {})
    except ConfigError as exc:
        raise AssertionError(f"{page}: {command}: {exc}") from None


def shown(page: str, start: str) -> str:
    """The command `page` shows that starts with `start`, exactly as the page has it."""
    found = {command for name, command in shown_commands() if name == page}
    matching = sorted(command for command in found if command.startswith(start))
    assert matching, f"{page} shows no command starting {start!r}: {sorted(found)}"
    return matching[0]


class Typed(GatewayProcess):
    """A command line typed into a shell in `cwd`, serving until it is stopped as Ctrl+C
    stops it: SIGINT to its whole process group (make and what make started)."""

    def __init__(self, command: str, cwd: Path, ready: str = "listening on") -> None:
        super().__init__()
        self.typed = command
        self.ready = ready
        self.popen_options = {"cwd": cwd, "start_new_session": True}

    def argv(self) -> list[str]:
        return ["bash", "-c", f"exec 1>&2; {self.typed}"]

    def start(self, timeout: float = 15.0) -> Typed:
        """Start it and wait for its ready line; nothing it started is left if it fails."""
        try:
            super().start(timeout)
        except BaseException:
            self.__exit__()
            raise
        return self

    def stop(self, sig: int = signal.SIGINT, timeout: float = 15.0) -> int:
        assert self.process
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        code = self.process.wait(timeout)
        self._drain()
        assert not any("Traceback" in line for line in self.lines), "\n".join(self.lines)
        return code

    def __exit__(self, *exc_info: object) -> None:  # type: ignore[override]
        """Stopped as Ctrl+C stops it; killed, with all it started, if that fails."""
        try:
            if self.process and self.process.poll() is None:
                self.stop()
        finally:
            if self.process and self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def run(command: str, cwd: Path) -> str:
    """Run a command to its end as typed; what it printed (it must exit 0)."""
    done = subprocess.run(["bash", "-c", command], cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _in_use(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


@pytest.fixture
def documented_ports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The pages' ports, for one test at a time (xdist's workers share the lock file);
    skipped if something else has one (say, your own make run), but never under CI=true."""
    lock = tmp_path_factory.getbasetemp().parent / "documented-ports.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        busy = [port for port in (5000, 8000, 5001, 5002, 9092) if _in_use(port)]
        if busy:
            why = f"port {', '.join(map(str, busy))} in use (your make run?): these commands need them"
            if os.environ.get("CI") == "true":
                pytest.fail(why)
            pytest.skip(why)
        yield


@pytest.fixture
def checkout_copy(tmp_path: Path) -> Path:
    """A copy of the checkout as git would clone it, with the project's .venv linked in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    copy = tmp_path / "payments_server"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():  # not one deleted in the working tree
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)  # its time kept: make sees the venv current
    (copy / ".venv").symlink_to(ROOT / ".venv")
    # make would reinstall into the shared venv from the copy if the venv were behind.
    assert subprocess.run(["make", "-q", "install"], cwd=copy, check=False).returncode == 0, (
        "the venv is older than requirements.txt or pyproject.toml: run make install first"
    )
    return copy


def test_every_command_shown_without_its_answer_is_run_here_or_named() -> None:
    for page, command in shown_commands():
        ran = command.startswith(RUN_HERE)
        named = any(command.startswith(key) for key in NOT_RUN_HERE)
        assert ran or named, f"{page}: {command}: neither run here nor named in NOT_RUN_HERE"


def test_the_tour_and_the_reference_pages_commands_run_as_typed(
    documented_ports: None, checkout_copy: Path
) -> None:
    here = checkout_copy
    with Typed(shown("README.md", "make run"), here):
        assert requests.get(GATEWAY + "/balance", timeout=5).json()["balance"] == 50000.0
        with Typed(shown("README.md", "make store"), here, ready="store_server listening on"):
            # testing.md's script: the store makes the order, the gateway pays it and
            # calls the store back on the default callback URL.
            lines = run(shown("testing.md", "bash examples/checkout.sh"), here).splitlines()
            assert "✓ Store was notified, checking order status..." in lines
            assert lines[-1] == '"paid"'
            graded = run(shown("check-store.md", ".venv/bin/payments-server check-store"), here)
            assert graded.endswith("\n\n13 checks: 13 passed, 0 failed, 0 skipped\n"), graded
    # The state file lands where it was typed, and a restart keeps what was paid.
    with Typed(shown("configuration.md", 'make run ARGS="--state-file'), here):
        paid = requests.post(GATEWAY + "/payments/orders", timeout=5,
                             json={"order_id": "typed-1", "amount": 12.5})  # fmt: skip
        assert paid.status_code == 200, paid.text
    assert '"typed-1"' in (here / "payments.jsonl").read_text()
    with Typed(shown("configuration.md", 'make run ARGS="--state-file'), here):
        assert requests.get(GATEWAY + "/balance", timeout=5).json()["balance"] == 49987.5
    with Typed(shown("psp.md", 'make run ARGS="--clock-start'), here):
        clock = requests.get(GATEWAY + "/clock", timeout=5).json()
        assert (clock["now"], clock["frozen"]) == ("2020-07-19T22:26:23.693Z", True)
    # scaling.md's two replicas, each with its own state file.
    with (
        Typed(shown("scaling.md", ".venv/bin/payments-server --port 5001"), here),
        Typed(shown("scaling.md", ".venv/bin/payments-server --port 5002"), here),
    ):
        requests.post("http://localhost:5001/payments/orders", timeout=5,
                      json={"order_id": "replica-1", "amount": 1})  # fmt: skip
        assert requests.get("http://localhost:5002/balance", timeout=5).status_code == 200
    assert '"replica-1"' in (here / "replica-1.jsonl").read_text()
    assert (here / "replica-2.jsonl").exists()


def test_the_kafka_pages_command_publishes_to_a_broker_on_9092(
    documented_ports: None, checkout_copy: Path
) -> None:
    need_kafka_client()
    broker = start_broker(9092)
    try:
        with Typed(shown("kafka.md", 'make run ARGS="--kafka-bootstrap-servers'), checkout_copy):
            paid = requests.post(GATEWAY + "/payments/orders", timeout=5,
                                 json={"order_id": "typed-k", "amount": 3})  # fmt: skip
            assert paid.status_code == 200, paid.text
            [event] = read("127.0.0.1:9092", "payment-succeeded", 1)
            assert event.key() == b"typed-k"  # type: ignore[attr-defined]
    finally:
        broker.terminate()
        broker.wait(10)
