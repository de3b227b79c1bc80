"""Draw the program's import graph from the code, as Mermaid, for docs/architecture.md.

    python scripts/import_graph.py            # top level: packages and modules of checklist_app
    python scripts/import_graph.py domain     # inside one package

Uses grimp, the graph library import-linter is built on (installed with the test extras), so the
drawing and the contracts CI checks read the same graph. Imports under `if TYPE_CHECKING:` are left
out, as import-linter is told to. Exits 1 if the drawn graph has a cycle.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import grimp  # noqa: E402


def edges(graph, parent: str) -> dict[str, set[str]]:
    children = sorted(m for m in graph.find_children(parent) if not m.endswith(".resources"))
    found: dict[str, set[str]] = {c: set() for c in children}
    for a in children:
        for b in children:
            if a != b and graph.chain_exists(importer=a, imported=b, as_packages=True):
                direct = graph.find_shortest_chain(importer=a, imported=b, as_packages=True)
                if direct is not None and len(direct) == 2:  # a direct import, not through a third module
                    found[a].add(b)
    return found


def has_cycle(found: dict[str, set[str]]) -> list[str] | None:
    seen: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        seen[node] = 1
        for nxt in sorted(found[node]):
            if seen.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in seen and (cycle := visit(nxt, [*path, node])):
                return cycle
        seen[node] = 2
        return None

    for node in found:
        if node not in seen and (cycle := visit(node, [])):
            return cycle
    return None


def main() -> int:
    parent = "checklist_app" + (f".{sys.argv[1]}" if len(sys.argv) > 1 else "")
    graph = grimp.build_graph("checklist_app", exclude_type_checking_imports=True)
    found = edges(graph, parent)
    short = {m: m.rsplit(".", 1)[1] for m in found}
    print("```mermaid\nflowchart TD")
    for a, targets in found.items():
        for b in sorted(targets):
            print(f"    {short[a]} --> {short[b]}")
    print("```")
    cycle = has_cycle(found)
    if cycle:
        print(f"cycle: {' -> '.join(short[m] for m in cycle)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
