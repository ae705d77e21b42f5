"""Write docs/openapi.md, the site's OpenAPI reference, from the document the gateway serves:
`python tools/openapi_reference.py` rewrites it, `--check` says whether it is current."""

from __future__ import annotations

import sys
from pathlib import Path

from payments_server.apis.gateway.spec import spec

PAGE = Path(__file__).resolve().parents[1] / "docs" / "openapi.md"
INTRO = """# OpenAPI reference

Every operation of every API the gateway speaks, from the OpenAPI 3.1 document it serves
at `GET /openapi.json` (load that into Swagger UI, an HTTP client or a contract test for
the schemas). Its links lead from an answer to what can be done next with it: a pending
payment to its decision, an order to its callback's retry or its refund, a session to its
completion, a prepaid card to its load; a stateful fuzzer such as schemathesis follows
them. This page is made from it by `tools/openapi_reference.py` (`make docs`).
"""


def page() -> str:
    """The reference: per API, each operation's method, path, summary and statuses."""
    document = spec()
    paths: dict[str, dict[str, dict[str, object]]] = document["paths"]  # type: ignore[assignment]
    lines = [INTRO]
    for tag in document["tags"]:  # type: ignore[attr-defined]
        lines += [f"## {tag['name']}", "", tag["description"], "",
                  "| Method | Path | What it does | Answers |", "|---|---|---|---|"]  # fmt: skip
        for path, item in paths.items():
            for method, operation in item.items():
                if tag["name"] not in operation.get("tags", ["gateway"]):  # type: ignore[operator]
                    continue
                answers = ", ".join(operation["responses"])  # type: ignore[arg-type]
                summary = str(operation["summary"]).replace("|", "\\|")
                lines.append(f"| {method.upper()} | `{path}` | {summary} | {answers} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--check" in sys.argv[1:]:
        current = PAGE.read_text() if PAGE.exists() else ""
        sys.exit(0 if current == page() else "docs/openapi.md is out of date: make docs")
    PAGE.write_text(page())
