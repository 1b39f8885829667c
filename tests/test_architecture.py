"""The dependency direction of docs/architecture.md, checked on every import of the tree.

engine ← kernel ← teaching ← consensus ← community ← frontend ← project: a module imports
its own layer and the layers below it, never one above (a lower app that must be followed
by a higher one sends a signal the higher one listens to). Imports inside functions count
too, and one app does not import another inside a function: that was how cycles were
hidden; the direction makes every allowed import possible at the top of the module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Bottom first. A module belongs to the layer of its longest matching prefix.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("engine", ("mola.engine",)),  # plain Python: numpy, scikit-learn, lark, networkx
    ("kernel", ("mola",)),  # errors, db, broker, API glue, settings, Celery app
    ("teaching", ("teaching",)),
    ("cases", ("cases",)),  # the case pool: uses teaching; the rule preview shows its coverage
    ("consensus", ("consensus",)),
    ("community", ("community",)),
    ("evaluation", ("evaluation",)),  # agreed cases, scorecards, change reports
    ("frontend", ("frontend",)),
    ("project", ("mola.demo", "mola.demo_data", "mola.management", "mola.urls")),
]
APP_LAYERS = {"teaching", "cases", "consensus", "community", "evaluation", "frontend", "project"}
NOT_IN_ENGINE = ("django", "rest_framework", "celery", "kombu", "redis", "psycopg")


def layer_of(module: str) -> tuple[int, str] | None:
    """(rank, name) of the module's layer, or None for a module outside the product."""
    best: tuple[int, int, str] | None = None
    for rank, (name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            matches = module == prefix or module.startswith(prefix + ".")
            if matches and (best is None or len(prefix) > best[0]):
                best = (len(prefix), rank, name)
    return None if best is None else (best[1], best[2])


def _imports(tree: ast.AST) -> list[tuple[str, int, bool]]:
    """(imported module, line, inside a function) of every absolute import."""
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, inside: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, child.lineno, inside) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module, child.lineno, inside))
            nested = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            visit(child, inside or nested)

    visit(tree, False)
    return found


def violations(module: str, source: str) -> list[str]:
    """What is wrong with the imports of ``module`` (whose text is ``source``)."""
    own = layer_of(module)
    if own is None:
        return []
    problems = []
    for imported, line, inside in _imports(ast.parse(source)):
        where = f"{module}:{line} imports {imported}"
        if own[1] == "engine" and imported.split(".")[0] in NOT_IN_ENGINE:
            problems.append(f"{where}: the engine is plain Python")
            continue
        target = layer_of(imported)
        if target is None or target[1] == own[1]:
            continue
        if target[0] > own[0]:
            problems.append(f"{where}: {own[1]} may not import {target[1]} (a higher layer)")
        elif inside and target[1] in APP_LAYERS:
            problems.append(f"{where} inside a function: import it at the top")
    return problems


def product_modules() -> list[tuple[str, Path]]:
    modules = []
    for top in sorted({prefix.split(".")[0] for _, prefixes in LAYERS for prefix in prefixes}):
        for path in sorted((ROOT / top).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules.append((name, path))
    return modules


def test_every_app_of_the_project_has_its_layer() -> None:
    """A new app must take its place in LAYERS (and in docs/architecture.md): an app the
    check does not know would escape it, and so would every import of it."""
    from django.apps import apps

    ours = [c.name for c in apps.get_app_configs() if (ROOT / c.name.split(".")[0]).is_dir()]
    assert ours and [name for name in ours if layer_of(name) is None] == []
    known = {name for name, _ in LAYERS}
    tops = {name.split(".")[0] for name in ours}
    assert tops <= known | {"mola"}, f"place {sorted(tops - known - {'mola'})} in LAYERS"
    read = {path.relative_to(ROOT).parts[0] for _, path in product_modules()}
    assert tops <= read, f"read the modules of {sorted(tops - read)} too (product_modules)"


def test_every_import_follows_the_dependency_direction() -> None:
    modules = product_modules()
    assert len(modules) > 100  # the whole tree was read
    problems = [p for name, path in modules for p in violations(name, path.read_text())]
    assert problems == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        (  # a lower app calling a higher one
            "teaching.services.rules",
            "from community.services.threads import thread_create\n",
            "teaching may not import community",
        ),
        (  # hidden inside a function does not help
            "consensus.services",
            "def f():\n    from community.models import Thread\n",
            "consensus may not import community",
        ),
        (  # allowed direction, but inside a function
            "frontend.views.teach",
            "def f():\n    from teaching.services import rules\n",
            "inside a function",
        ),
        (  # the engine stays free of Django
            "mola.engine.table",
            "from django.db import models\n",
            "the engine is plain Python",
        ),
        (  # the kernel does not know the apps
            "mola.api.auth",
            "def f():\n    from teaching.models import SpaceApiKey\n",
            "kernel may not import teaching",
        ),
    ],
)
def test_a_deliberate_violation_is_reported(module: str, source: str, expected: str) -> None:
    (problem,) = violations(module, source)
    assert expected in problem


def test_allowed_imports_are_not_reported() -> None:
    source = (
        "from teaching.models import Space\nfrom mola.errors import NotFound\n"
        "import numpy\nfrom community.services import threads\n"
    )
    assert violations("frontend.views.community", source) == []
    assert violations("mola.demo", "from teaching.services import rules\n") == []


def test_every_signal_sent_upwards_has_its_listener() -> None:
    """Work a lower app hands up is never dropped silently: each signal has a receiver
    (connected by its app's ``ready``)."""
    from consensus import signals as consensus_signals
    from teaching import signals as teaching_signals

    sent = [
        teaching_signals.teachings_changed,
        teaching_signals.decision_taken,
        teaching_signals.predictions_explained,
        consensus_signals.disputes_grouped,
        consensus_signals.disputes_opened,
        consensus_signals.disputes_decided,
        teaching_signals.version_publishing,
        teaching_signals.pool_sample_wanted,
    ]
    assert all(signal.has_listeners() for signal in sent)
    assert len(sent) == 8


# Sizes a newcomer can hold in their head (docs/architecture.md, "Sizes"). A module or a
# function may be longer when a paragraph of its docstring starting "Long:" says why.
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80
SIZED = ("bench", "tests")  # read beside the product's modules


def _reasoned(node: ast.AST) -> bool:
    doc = ast.get_docstring(node) or ""  # type: ignore[arg-type]
    return any(line.strip().startswith("Long:") for line in doc.splitlines())


def size_problems(name: str, source: str) -> list[str]:
    """What in the module ``name`` (whose text is ``source``) is too long without a reason."""
    tree = ast.parse(source)
    problems = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES and not _reasoned(tree):
        problems.append(f"{name}: {lines} lines (over {MAX_MODULE_LINES}: split it or say why)")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not _reasoned(node):
                problems.append(
                    f"{name}:{node.lineno} {node.name}: {length} lines "
                    f"(over {MAX_FUNCTION_LINES}: split it or say why)"
                )
    return problems


def sized_modules() -> list[tuple[str, Path]]:
    extra = [
        (".".join(path.relative_to(ROOT).with_suffix("").parts), path)
        for top in SIZED
        for path in sorted((ROOT / top).rglob("*.py"))
    ]
    return product_modules() + extra


def test_no_module_or_function_is_too_long_without_a_reason() -> None:
    modules = sized_modules()
    assert len(modules) > 300  # product, tests and bench were read
    problems = [p for name, path in modules for p in size_problems(name, path.read_text())]
    assert problems == []


def test_a_long_function_without_a_reason_is_reported() -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    long_function = f"def f():\n{body}"
    (problem,) = size_problems("teaching.services.rules", long_function)
    assert "f: 81 lines" in problem
    reasoned = f'def f():\n    """What it does.\n\n    Long: one table of cases.\n    """\n{body}'
    assert size_problems("teaching.services.rules", reasoned) == []
    long_module = "x = 1\n" * (MAX_MODULE_LINES + 1)
    (problem,) = size_problems("teaching.services.rules", long_module)
    assert f"{MAX_MODULE_LINES + 1} lines" in problem
    assert size_problems("m", '"""A table.\n\nLong: data, not logic."""\n' + long_module) == []
