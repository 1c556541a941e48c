"""Draw the import graph of the project by layer (``make graph``).

The layers are the ones ``lint-imports`` checks (``[tool.importlinter]`` in pyproject.toml): each
module is placed in the layer that lists it, judging and live battles apart. An edge ``a -> b``
says modules of ``a`` import modules of ``b`` (how many imports, at least one). Prints text by
default, Graphviz dot with ``--dot`` (``make graph | dot -Tsvg``); ``--packages`` draws the
packages inside the layers instead (``arena.services``, ``reports.selectors``...). Exits non-zero
when an edge goes up a layer or the graph has a circle: the picture is the check.
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
# Top to bottom, as in the layers contract; the judging layer is drawn as its two apps.
LAYER_NAMES = ("web and commands", "reports", "judging and live battles", "domain core", "Django-free")


def layers() -> tuple[list[str], dict[str, list[str]]]:
    """The layers contract of pyproject.toml: the root packages and each layer's modules."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    [contract] = [c for c in config["contracts"] if c["id"] == "layers"]
    assert len(contract["layers"]) == len(LAYER_NAMES), "name the new layer in tools/import_graph.py"
    modules = {
        name: [m.strip() for m in layer.replace("|", ":").split(":")]
        for name, layer in zip(LAYER_NAMES, contract["layers"], strict=True)
    }
    return config["root_packages"], modules


def build() -> tuple[grimp.ImportGraph, dict[str, tuple[int, str]]]:
    """The graph of the project's modules, and each module's (layer index, node) or nothing."""
    roots, by_layer = layers()
    sys.path.insert(0, str(ROOT))
    graph = grimp.build_graph(*roots)
    place: dict[str, tuple[int, str]] = {}
    for module in graph.modules:
        for index, (layer, listed) in enumerate(by_layer.items()):
            if any(module == m or module.startswith(m + ".") for m in listed):
                node = module.split(".")[0] if layer == "judging and live battles" else layer
                place[module] = (index, node)
    return graph, place


def edges(
    graph: grimp.ImportGraph, place: dict[str, tuple[int, str]], *, packages: bool
) -> Counter[tuple[str, str]]:
    def node(module: str) -> str:
        if not packages:
            return place[module][1]
        if module in ("arena.imports.parsers", "arena.imports.rows") or module.startswith(
            "arena.imports.parsers."
        ):
            return "arena.imports.parsers"
        return ".".join(module.split(".")[:2])

    found: Counter[tuple[str, str]] = Counter()
    for importer in graph.modules:
        if importer not in place:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            if imported in place and node(importer) != node(imported):
                found[node(importer), node(imported)] += 1
    return found


def layer_of(place: dict[str, tuple[int, str]], *, packages: bool) -> dict[str, int]:
    out: dict[str, int] = {}
    for module, (index, node) in place.items():
        key = (
            node
            if not packages
            else (
                "arena.imports.parsers"
                if module.startswith(("arena.imports.parsers", "arena.imports.rows"))
                else ".".join(module.split(".")[:2])
            )
        )
        out[key] = index
    return out


def circles(found: Counter[tuple[str, str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan's algorithm)."""
    following: dict[str, list[str]] = {}
    for a, b in found:
        following.setdefault(a, []).append(b)
        following.setdefault(b, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in following[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(following):
        if v not in index:
            visit(v)
    return groups


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dot", action="store_true", help="print Graphviz dot instead of text")
    parser.add_argument("--packages", action="store_true", help="one node per package, not per layer")
    args = parser.parse_args()
    graph, place = build()
    found = edges(graph, place, packages=args.packages)
    level = layer_of(place, packages=args.packages)
    upward = sorted((a, b) for a, b in found if level[a] > level[b])
    loops = circles(found) if not args.packages else []  # packages of one layer may import each other
    ordered = sorted(found, key=lambda e: (level[e[0]], e[0], level[e[1]], e[1]))
    if args.dot:
        print("digraph imports {\n  rankdir=TB;\n  node [shape=box];")
        for index, name in enumerate(LAYER_NAMES):
            nodes = sorted(n for n, i in level.items() if i == index)
            print(
                f'  subgraph "cluster_{index}" {{ label="{name}"; '
                + " ".join(f'"{n}";' for n in nodes)
                + " }"
            )
        for a, b in ordered:
            colour = " [color=red]" if (a, b) in upward else ""
            print(f'  "{a}" -> "{b}" [label="{found[a, b]}"]{colour};')
        print("}")
    else:
        if args.packages:
            for index, name in enumerate(LAYER_NAMES):
                print(f"{index + 1}. {name}: " + ", ".join(sorted(n for n, i in level.items() if i == index)))
            print()
        for a, b in ordered:
            n = found[a, b]
            print(f"{a} -> {b} ({n} import{'s' if n > 1 else ''})")
    unplaced = sorted(
        m for m in graph.modules if m not in place and graph.find_modules_directly_imported_by(m)
    )
    for problem, items in (("upward", upward), ("circle", loops), ("in no layer", unplaced)):
        for item in items:
            print(f"{problem}: {item}", file=sys.stderr)
    return 1 if upward or loops or unplaced else 0


if __name__ == "__main__":
    sys.exit(main())
