"""The package's shape: imports point down only, no loops, public names where documented."""

from __future__ import annotations

import ast
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from payments_server import Settings, __version__, create_app
from payments_server.testing import (
    CONFIRM_PATH,
    GatewayServer,
    GatewayServerError,
    ReceivedCallback,
    StoreStub,
)

PACKAGE = Path(__file__).resolve().parents[1] / "payments_server"

# Lower layers never import higher ones; a module may import its own layer and below.
# Talking to the store (callbacks) and to the broker (publishing) are one layer.
LAYERS = {"core": 0, "callbacks": 1, "publishing": 1, "flow": 2, "apis": 3, "ui": 4, "": 5,
          "testing": 6}  # fmt: skip


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in LAYERS) else ""


def _runtime_imports(path: Path) -> set[str]:
    """Modules of the package this file imports when it runs (not under TYPE_CHECKING)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    tree = ast.parse(path.read_text("utf-8"))
    type_only = {
        id(node)
        for branch in ast.walk(tree)
        if isinstance(branch, ast.If) and ast.unparse(branch.test) == "TYPE_CHECKING"
        for statement in branch.body
        for node in ast.walk(statement)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "payments_server":
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                is_module = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(".py")
                found.add(candidate if is_module.exists() else target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("payments_server"))
    found.discard(module)
    return found


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down_only(module: str) -> None:
    area = _area(module)
    upward = {
        target
        for target in _runtime_imports(MODULES[module])
        if target != "payments_server" and LAYERS[_area(target)] > LAYERS[area]
    }
    assert not upward, f"{module} ({area or 'top'}) imports a higher layer: {sorted(upward)}"


def test_core_callbacks_and_publishing_do_not_import_flask_or_http_servers() -> None:
    for module, path in MODULES.items():
        if _area(module) in {"core", "callbacks", "publishing"}:
            text = path.read_text("utf-8")
            for name in ("flask", "werkzeug", "waitress", "granian"):
                assert f"import {name}" not in text and f"from {name}" not in text, module


def test_no_import_cycles() -> None:
    graph = {m: _runtime_imports(p) - {"payments_server"} for m, p in MODULES.items()}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, "import cycle: " + " -> ".join((*path, module))
        if module in done:
            return
        for target in graph.get(module, ()):
            visit(target, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


# One concept may be one module of up to this many lines: modules are split by meaning,
# not to stay under a cap.
MAX_LINES = 500


def test_no_module_is_over_500_lines() -> None:
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long


def test_public_names_are_importable_from_their_documented_places() -> None:
    assert callable(create_app) and Settings().port == 5000 and __version__
    assert CONFIRM_PATH == "/payments/confirm"
    assert issubclass(GatewayServerError, AssertionError)
    assert {GatewayServer.__name__, StoreStub.__name__, ReceivedCallback.__name__} == {
        "GatewayServer",
        "StoreStub",
        "ReceivedCallback",
    }


def test_the_entry_points_resolve() -> None:
    plugins = {ep.name: ep for ep in metadata.entry_points(group="pytest11")}
    plugin = plugins["payments_server"].load()
    assert hasattr(plugin, "payments_gateway") and hasattr(plugin, "store_stub")
    scripts = {ep.name: ep for ep in metadata.entry_points(group="console_scripts")}
    assert scripts["payments-server"].value == "payments_server.__main__:main"
    version = subprocess.run(
        [sys.executable, "-m", "payments_server", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert version.stdout.startswith("payments-server ")
