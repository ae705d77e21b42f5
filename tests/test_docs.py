"""The pages in docs/: each example, run against the real server, gives the answer shown."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway_process import GatewayProcess
from helpers import STORE_PROJECT_PLUGINS, build_site, exact_json, masked
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
    built = build_site(tmp_path)
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
    # The page's three blocks, as the page names them: conftest.py, the test, store.py.
    conftest, kit_test, flask_store = PYTHON.findall((DOCS / "check-store.md").read_text())
    pytester.makepyfile(store=flask_store)
    pytester.makeconftest(conftest)
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
