"""Where each microsecond of a request goes: py-spy samples the gateway under wrk.

`python bench/cost_table.py` (`make profile`) starts the gateway as `make run` starts it
(the access log on, to a file) and a keep-alive store, drives GET /balance and then
POST /payments/orders with wrk, and meanwhile samples whichever thread holds the GIL
(`py-spy record --gil`). Each sample is put in the part of the request its stack is in,
the innermost part first, and the table gives each part's microseconds of GIL per request:
what the one interpreter spends, which is what bounds the rate. Under each table, the
gateway process's CPU per request (user and system, from /proc) over the same run, more
than twice the samples' total under load: they see only a thread holding the GIL, not the
GIL's hand-overs, granian's native thread or the kernel (docs/performance.md). py-spy
needs to trace the process (root, or ptrace allowed).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from run import BENCH, PYTHON, free_port, serving

RATE_HZ = 997
# (part, a pattern of frames): the first part whose pattern a stack has, scanning from
# its innermost frame outwards, gets the sample. Order within a frame: as listed.
PARTS = (
    (
        "log lines (access log, callbacks) and their writer",
        r"AccessLog\.|logging/__init__|_Writer\.|EscapingFormatter",
    ),
    ("callback to the store", r"StoreNotifier\.|http1\.py|CallbackDispatcher\."),
    ("journal", r"Journal\."),
    ("activity log", r"ActivityLog\.|EventBus\."),
    ("recorder", r"record_request|redact_body|as_curl"),
    ("ledger (lock, decision, book)", r"Ledger\.|Simulator\.|Limits"),
    ("flow (the rest)", r"PaymentFlow\.|payment_flow\.py"),
    ("guard", r"guard\.py"),
    (
        "namespace and API-fault hooks",
        r"namespace_routing\.py|api_fault_hooks\.py|_before_each|_after_each",
    ),
    ("routing", r"match_request|bind_to_environ|create_url_adapter|routing/"),
    (
        "the route and its JSON",
        r"apis/gateway/|apis/web\.py|responses\.py|jsonio\.py|simplejson|idempotent\.py",
    ),
    ("Flask and werkzeug (contexts, request, response)", r"flask/|werkzeug/"),
    ("bridge, on a pool thread", r"Bridge\._answer|Bridge\._call|_environ|RequestThreads\._work"),
    ("bridge, on the event loop", r"Bridge\.__rsgi__|Bridge\._body|asyncio/|_futures\.py|_settle"),
    ("granian and the event loop, native", r"serve_granian"),
)
UNPLACED = "other"


def part_of(stack: str) -> str:
    """The part a sampled stack (py-spy's raw frames, outermost first) belongs to."""
    for frame in reversed(stack.split(";")):
        for part, pattern in PARTS:
            if re.search(pattern, frame):
                return part
    return UNPLACED


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime and stime are the stat file's fields 14 and 15, in clock ticks.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def profile(
    url: str, pid: int, seconds: float, script: str | None
) -> tuple[Counter[str], int, float]:
    """Samples per part while wrk drives url, the requests wrk completed, and the CPU
    seconds the gateway used meanwhile."""
    used = cpu_seconds(pid)
    with tempfile.TemporaryDirectory() as folder:
        raw = Path(folder, "samples.txt")
        spy = subprocess.Popen(
            ["py-spy", "record", "--gil", "--nonblocking", "-r", str(RATE_HZ), "-f", "raw",
             "-d", str(int(seconds)), "-p", str(pid), "-o", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        command = ["wrk", "-t", "2", "-c", "16", "-d", f"{seconds + 1:g}s"]
        if script:
            command += ["-s", str(BENCH / script)]
        command += [url, "--", "profile"] if script else [url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        used = cpu_seconds(pid) - used
        _, problem = spy.communicate()
        if spy.returncode != 0 or not raw.exists():
            raise SystemExit(f"py-spy could not sample the gateway: {problem.strip()}")
        parts: Counter[str] = Counter()
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue  # a line cut short as py-spy stopped (seen once in a few runs)
            parts[part_of(stack)] += int(count)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # wrk ran a second longer than py-spy sampled: the CPU is divided by wrk's requests.
    return parts, round(rate * seconds), used / (rate * (seconds + 1))


def table(title: str, parts: Counter[str], requests: int, cpu_per_request: float) -> str:
    """The cost table of one endpoint, in microseconds of GIL per request."""
    rows = [f"{title}: {requests / 1:,.0f} requests sampled", "", "| part | µs per request |",
            "|---|---:|"]  # fmt: skip
    for part, _ in (*PARTS, (UNPLACED, "")):
        if parts[part]:
            rows.append(f"| {part} | {parts[part] / RATE_HZ / requests * 1e6:.1f} |")
    whole = sum(parts.values()) / RATE_HZ / requests * 1e6
    rows.append(f"| **all of it, holding the GIL** | **{whole:.1f}** |")
    rows += ["", f"The gateway process's CPU over the same run: {cpu_per_request * 1e6:.0f} µs "
             "per request (user and system, every thread)."]  # fmt: skip
    return "\n".join(rows)


def main() -> int:
    """Profile both endpoints and print their tables as Markdown."""
    parser = argparse.ArgumentParser(prog="make profile", description=__doc__)
    parser.add_argument("--seconds", type=float, default=10, help="seconds of wrk per endpoint")
    parser.add_argument("--quiet", action="store_true", help="serve with --quiet")
    args = parser.parse_args()
    for tool in ("py-spy", "wrk"):
        if shutil.which(tool) is None:
            print(f"make profile: error: {tool} is not installed (make install; apt-get "
                  "install wrk)", file=sys.stderr)  # fmt: skip
            return 2
    store_port, port = free_port(), free_port()
    with serving([PYTHON, str(BENCH / "store.py"), str(store_port)], store_port) as store:
        command = [PYTHON, "-m", "payments_server", "--port", str(port),
                   "--callback-url", store + "/payments/confirm"]  # fmt: skip
        if args.quiet:
            command.append("--quiet")
        with serving(command, port) as url:
            pid = int(subprocess.run(["pgrep", "-f", "--", f"--port {port}"], capture_output=True,
                                     text=True, check=True).stdout.split()[0])  # fmt: skip
            for title, path, script in (("GET /balance", "/balance", None),
                                        ("POST /payments/orders", "/payments/orders",
                                         "orders.lua")):  # fmt: skip
                parts, requests, cpu = profile(url + path, pid, args.seconds, script)
                print(table(title, parts, requests, cpu) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
