"""The pages in docs/: each example, run against the real server, gives the answer shown."""

from __future__ import annotations

import argparse
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway_process import GatewayProcess
from helpers import STORE_PROJECT_PLUGINS, exact_json, masked
from payments_server.__main__ import build_parser
from payments_server.check_store_command import build_parser as check_store_parser
from payments_server.config import ConfigError, Settings
from payments_server.testing import StoreStub

DOCS = Path(__file__).resolve().parent.parent / "docs"
EXAMPLE = re.compile(r"```sh\n([^`]*?)```\s*```json\n(.*?)```", re.DOTALL)
PYTHON = re.compile(r"```python\n(.*?)```", re.DOTALL)
SEED_AS_RANDOM = re.compile(
    r"decline[-_]seed|`seed`|\"seed\"|seeded prng|random seed|seed for (?:the |--)decline"
)
# A script, stylesheet, font or image a page would fetch from another host.
EXTERNAL = re.compile(r'<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)="(?:https?:)?//[^"]*"')
# Each page with examples, and how the gateway its examples run against is started.
PAGES = {"clock.md": ("--clock", "frozen"), "article.md": (), "ticketing.md": (),
         "cardloader.md": (), "namespaces.md": ("--clock", "frozen"),
         "psp.md": ("--clock-start", "2020-07-19T22:26:23.693Z", "--clock", "frozen")}  # fmt: skip


@pytest.mark.parametrize("page", sorted(PAGES))
def test_every_example_of_the_page_answers_as_shown(page: str) -> None:
    assert shutil.which("curl") and shutil.which("jq"), "the examples need curl and jq on PATH"
    examples = EXAMPLE.findall((DOCS / page).read_text())
    assert examples
    with StoreStub() as store, GatewayProcess("--callback-url", store.url, *PAGES[page]) as gateway:
        for command, expected in examples:
            local = command.replace("http://localhost:5000", gateway.url)
            result = subprocess.run(
                ["bash", "-c", local], capture_output=True, text=True, timeout=30, check=True
            )
            assert masked(exact_json(result.stdout)) == masked(exact_json(expected)), command


def test_the_clock_pages_store_test_passes_in_a_project_that_only_installed_the_package(
    pytester: pytest.Pytester,
) -> None:
    [recipe] = PYTHON.findall((DOCS / "clock.md").read_text())
    pytester.makepyfile(test_clock=recipe)
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=1)


def test_the_namespaces_pages_store_test_passes_under_xdist(pytester: pytest.Pytester) -> None:
    [recipe] = PYTHON.findall((DOCS / "namespaces.md").read_text())
    pytester.makepyfile(test_spaces=recipe)
    pytester.runpytest_subprocess("-n", "2", *STORE_PROJECT_PLUGINS).assert_outcomes(passed=1)


def test_the_clock_page_shows_every_clock_operation() -> None:
    commands = " ".join(command for command, _ in EXAMPLE.findall((DOCS / "clock.md").read_text()))
    for operation in ("curl -s http://localhost:5000/clock\n", "-X PUT http://localhost:5000/clock ",
                      "-X POST http://localhost:5000/clock/advance "):  # fmt: skip
        assert operation in commands


def test_the_site_builds_strict_and_reads_offline(tmp_path: Path) -> None:
    zensical = Path(sys.executable).with_name("zensical")
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(DOCS.parent / "mkdocs.yml", tmp_path)
    built = subprocess.run(
        [str(zensical), "build", "--strict"], cwd=tmp_path, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    pages = sorted((tmp_path / "site").glob("*.html"))
    assert {page.stem for page in pages} >= {path.stem for path in DOCS.glob("*.md")}
    for page in pages:
        html = page.read_text()
        # Nothing fetched from elsewhere: no script, stylesheet, font or image.
        assert not EXTERNAL.findall(html), (page.name, EXTERNAL.findall(html))
    for css in (tmp_path / "site").rglob("*.css"):
        assert "url(http" not in css.read_text() and "@import" not in css.read_text(), css


def test_every_page_is_in_the_sites_navigation() -> None:
    nav = (DOCS.parent / "mkdocs.yml").read_text().split("\nnav:\n", 1)[1]
    for page in DOCS.glob("*.md"):
        assert f": {page.name}\n" in nav + "\n", page.name


def test_the_pages_name_each_api_not_the_document_it_came_from() -> None:
    # "seed" is the word for a random generator's start (decline_rate's seed), nothing else.
    for page in [DOCS.parent / "README.md", *DOCS.glob("*.md")]:
        text = SEED_AS_RANDOM.sub("", page.read_text().lower())
        assert "seed" not in text, (page.name, text[text.index("seed") - 60 :][:120])


@pytest.mark.parametrize("tool", ["configuration_table.py", "openapi_reference.py"])
def test_the_pages_made_from_the_code_are_current(tool: str) -> None:
    checked = subprocess.run(
        [sys.executable, str(DOCS.parent / "tools" / tool), "--check"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr


def test_the_report_cards_flask_fix_passes_every_check_with_the_kits_own_test(
    pytester: pytest.Pytester,
) -> None:
    kit_test, flask_store = PYTHON.findall((DOCS / "check-store.md").read_text())
    pytester.makepyfile(flask_store=flask_store)
    pytester.makeconftest(
        """
import secrets, threading
import pytest
from werkzeug.serving import make_server
import flask_store


class LiveStore:
    def __init__(self, url):
        self.url = url

    def new_order(self):
        order = "ord_" + secrets.token_hex(5)
        flask_store.orders[order] = "pending"
        return order


@flask_store.app.get("/orders/<order_id>")
def order(order_id):
    if order_id not in flask_store.orders:
        return {"error": "no such order"}, 404
    return {"status": flask_store.orders[order_id]}


@pytest.fixture
def live_store():
    server = make_server("127.0.0.1", 0, flask_store.app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield LiveStore(f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
"""
    )
    pytester.makepyfile(test_report_card=kit_test)
    pytester.runpytest_subprocess(*STORE_PROJECT_PLUGINS).assert_outcomes(passed=1)


BLOCK = re.compile(r"```[a-z]*\n(.*?)```", re.DOTALL)


def test_the_getting_started_page_is_the_readmes_tour() -> None:
    # The README's tour is what test_readme.py runs; the page must not drift from it.
    readme = (DOCS.parent / "README.md").read_text()
    tour = readme[readme.index("## A five-minute tour") : readme.index("## The APIs it speaks")]
    page = (DOCS / "getting-started.md").read_text()
    steps = page[page.index("### 1.") : page.index("## Where next")]
    assert BLOCK.findall(steps) == BLOCK.findall(tour)
    assert re.findall(r"^### .*$", steps, re.MULTILINE) == re.findall(
        r"^### .*$", tour, re.MULTILINE
    )


# Commands shown without an answer under them (the examples with one are run above and by
# test_readme.py), and what each needs that a test cannot give: they are checked here for
# what can be checked without running them (the make target exists, the CLI takes the
# options, the file is there).
NOT_RUN_HERE = {
    "make run": "serves until Ctrl+C; tests start the same CLI (gateway_process.py)",
    "make store": "serves until Ctrl+C; test_examples.py starts the same store",
    "make test": "the suite itself",
    "make fuzz": "runs in make test (tests/live/test_fuzz.py)",
    "make bench": "minutes of wrk; make bench-smoke runs in CI",
    "make profile": "needs ptrace for py-spy; CI's container may not allow it",
    "sudo apt-get install wrk": "a system package; .ci/run installs it",
    "bash examples/checkout.sh": "needs make run and make store; test_examples.py runs it",
}
COMMAND = re.compile(r"^(make |\.venv/bin/|bash |sudo |pip |curl |payments-server |python)")
FENCE = re.compile(r"^```(\w*)\s*$")


def shown_commands() -> list[tuple[str, str]]:
    """(page, command) for each command in a code block with no answer block after it."""
    found = []
    for page in [DOCS.parent / "README.md", *sorted(DOCS.glob("*.md"))]:
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


def test_every_command_shown_without_its_answer_runs_as_typed_or_says_why_not() -> None:
    targets = set(re.findall(r"^([a-z-]+):", (DOCS.parent / "Makefile").read_text(), re.M))
    seen = []
    for page, command in shown_commands():
        words = shlex.split(command)
        named = next((key for key in NOT_RUN_HERE if command.startswith(key)), None)
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
            assert (DOCS.parent / words[1]).is_file(), f"{page}: {command}: no such file"
        else:
            assert named is not None, f"{page}: {command}: neither checked nor named"
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
