"""The shape of the code stays as docs/architecture.md draws it.

- The feature packages form layers (import-linter's contract in pyproject.toml): a package
  imports only from the layers below it.
- No import cycle at all, between packages or between modules, counting the imports made
  inside functions and under `TYPE_CHECKING` (import-linter reads those too, but a cycle
  inside one package is not a layer question, so it is checked here).
- No module of `registry/`, `twilio_sim/` or `bench/` over 300 lines: past that a module
  usually holds two ideas.
- One transaction boundary: only `registry/core/transactions.py` commits; the few operations
  that must commit part-way use its `commit_now(reason)`, in the modules listed here.
- The PostgreSQL/SQLite differences live in `registry/core/dialects.py`: no other module
  reads `dialect.name` or imports SQLAlchemy's dialect packages.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "registry"
MAX_LINES = 300
SIZED = ("registry", "twilio_sim", "bench")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    """Module -> the `registry` modules it imports (anywhere in its body)."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in modules:  # `from pkg.mod import name` -> pkg.mod
                    target = target.rpartition(".")[0]
                # The app factory (`registry/__init__.py`) imports every feature; importing a
                # module's own package is Python's doing, not a dependency.
                if target and target != "registry" and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def package_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between the first-level parts of `registry` (packages and lone modules)."""
    def part(module: str) -> str:
        return ".".join(module.split(".")[:2])

    packages: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph.items():
        packages[part(module)].update(part(t) for t in targets if part(t) != part(module))
    return packages


def test_cycle_finder_reports_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_feature_packages_keep_their_layers():
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True) == 0, \
        "an import goes up a layer: see the report above and docs/architecture.md"


def test_no_import_cycle_between_packages():
    assert cycles(package_graph(import_graph())) == []


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_no_module_is_over_300_lines():
    long = {
        str(path.relative_to(ROOT)): lines
        for folder in SIZED
        for path in (ROOT / folder).rglob("*.py")
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


# --- one transaction boundary -----------------------------------------------------------------
# Operations flush; a request, a scheduler job or a CLI command commits once, at its end, in
# `registry/core/transactions.py`. The operations that must make their work durable part-way
# do so through `commit_now(reason)`, in these modules only, each use saying why.
COMMITS_IN = {"registry/core/transactions.py"}
COMMIT_NOW_IN = {
    "registry/core/errors.py": "a refused request rolls back, but keeps the record of its refusal",
    "registry/callbacks/dispatch.py": "the claim's leases hold before the pass places their calls",
    "registry/callbacks/placing.py": "the attempt is stored before Twilio is asked for the call (crash "
                                     "safety), and each chunk's SIDs as its answers come",
    "registry/callbacks/watchdog.py": "each silent call is settled before Twilio is asked about the next",
    "registry/calllog/chain.py": "each sealed batch lets go of the chain's tip",
    "registry/masking/webhooks.py": "a relayed text is logged before it is sent",
    "registry/callbacks/webhooks.py": "a missed call is stored before the shopper is texted about it",
    "registry/integrations/auth.py": "a refused client call keeps its log row (the request rolled back)",
    "registry/integrations/idempotency.py": "an Idempotency-Key is held (committed) before its request "
                                             "runs, so a concurrent retry sees it; a failure lets go of it",
    "registry/webhooks/claims.py": "the claim's leases hold before the deliveries are sent",
    "registry/webhooks/delivery.py": "each batch's attempts are stored, and their leases let go, as soon "
                                     "as they are made",
}
# The PostgreSQL/SQLite differences live here.
DIALECTS_IN = {"registry/core/dialects.py"}


def _calls(name: str):
    """(module path, line, call node) of every call of `.name(...)` or `name(...)` in `registry/`."""
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
                if called == name:
                    yield where, node.lineno, node


def test_only_the_unit_of_work_commits():
    stray = [f"{where}:{line}" for where, line, _ in _calls("commit")
             if where not in COMMITS_IN]
    assert stray == [], "commit at the request's or job's end (core.transactions), or through " \
        "commit_now in an allowed module, saying why: " + ", ".join(stray)


def test_commit_now_is_used_only_where_allowed_and_says_why():
    misused = []
    for where, line, node in _calls("commit_now"):
        if where == "registry/core/transactions.py":
            continue
        reason = node.args[0] if node.args else None
        given = isinstance(reason, ast.Name) or (isinstance(reason, ast.Constant) and reason.value)
        if where not in COMMIT_NOW_IN or not given:
            misused.append(f"{where}:{line}")
    assert misused == [], "commit_now outside COMMIT_NOW_IN, or without a reason: " + ", ".join(misused)


def test_no_module_but_dialects_looks_at_the_dialect():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(ROOT).as_posix()
        if where in DIALECTS_IN:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names_dialect = isinstance(node, ast.Attribute) and node.attr == "name" and (
                (isinstance(node.value, ast.Attribute) and node.value.attr == "dialect")
                or (isinstance(node.value, ast.Name) and node.value.id == "dialect"))
            imports_dialect = isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "sqlalchemy.dialects")
            if names_dialect or imports_dialect:
                found.append(f"{where}:{node.lineno}")
    assert found == [], "ask registry.core.dialects instead: " + ", ".join(found)
