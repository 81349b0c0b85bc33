"""Import boundaries: `import notices` stays light, and only notices/render.py imports WeasyPrint."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "notices"


def modules_after(statement: str) -> set[str]:
    """The modules loaded by a fresh interpreter after running one statement."""
    code = f"{statement}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def imported_roots(path: Path) -> set[str]:
    """The top-level package of every import statement in a source file (at any depth)."""
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def _in_cli(path: Path) -> bool:
    """Whether a source file is part of the command line (notices/cli/), the one place that prints and exits."""
    return path.relative_to(PACKAGE).parts[0] == "cli"


def test_import_notices_does_not_load_weasyprint() -> None:
    """`import notices` loads neither WeasyPrint nor the renderer."""
    loaded = modules_after("import notices")
    assert "weasyprint" not in loaded
    assert "notices.render" not in loaded


def test_import_cli_does_not_load_weasyprint() -> None:
    """Loading the command line (for --help) does not load WeasyPrint either."""
    loaded = modules_after("import notices.cli")
    assert "weasyprint" not in loaded


def test_the_console_script_asks_for_the_fork_server_before_loading_typer_or_the_commands() -> None:
    """`notices` starts a render's fork server (which loads WeasyPrint, about a second) before anything slow is
    imported: Typer and the commands (0.3 to 0.4 s) load after it, beside it on another core."""
    loaded = modules_after("import notices.cli")
    assert "notices.cli.start" in loaded
    assert not {m for m in loaded if m.split(".")[0] in ("typer", "click", "fontTools", "jinja2")}
    assert {"notices.cli.shared", "notices.cli.render", "notices.collectors", "notices.statutes"}.isdisjoint(loaded)


def test_the_batch_and_its_workers_entry_points_do_not_load_weasyprint() -> None:
    """The main process of a run imports the batch and the functions it hands its workers, and lays nothing
    out: WeasyPrint (about a second to import) is loaded by the workers' fork server, not by it."""
    loaded = modules_after("import notices.batch, notices.workers, notices.cli.render")
    assert not {m for m in loaded if m.startswith("weasyprint")}
    assert {"notices.render", "notices.fields", "notices.drawn", "notices.piece"}.isdisjoint(loaded)
    # Nor the statute check (the workers check each piece; here only a large-print run checks its summary), nor
    # urllib's HTTP client (0.1 s of the start together, before the first worker can start).
    assert {"notices.compliance", "urllib.request", "http.client"}.isdisjoint(loaded)


def test_only_the_render_stage_imports_weasyprint() -> None:
    """Of all the package's modules, only notices/render.py, notices/fields.py (which reuses its layouts),
    notices/drawn.py (which draws a kept layout once) and notices/native.py (which loads its libraries) import weasyprint."""
    importers = sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py") if "weasyprint" in imported_roots(p))
    assert importers == ["notices/drawn.py", "notices/fields.py", "notices/native.py", "notices/render.py"]


def test_nothing_imports_the_cli() -> None:
    """No library module imports notices.cli: the arrows point away from the command line."""
    for path in PACKAGE.rglob("*.py"):
        if _in_cli(path):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [a.name for a in node.names]
                assert not any(n == "cli" or n.endswith(".cli") for n in names), path


def test_errors_imports_nothing_from_notices() -> None:
    """notices/errors.py is the root of the tree: it imports nothing else from the package."""
    tree = ast.parse((PACKAGE / "errors.py").read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            assert node.level == 0 and not (node.module or "").startswith("notices"), ast.dump(node)


def test_only_cli_prints_or_exits() -> None:
    """No library module calls print(), sys.exit() or exit(): only notices/cli/ (and maintainer scripts) talk."""
    for path in PACKAGE.rglob("*.py"):
        if _in_cli(path) or '__name__ == "__main__"' in path.read_text("utf-8"):
            continue  # a maintainer's script run by hand, not a library module
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
                assert name != "print" and not (name == "exit" and owner in ("", "sys")), f"{path}:{node.lineno}"


def test_only_cli_raises_system_exit() -> None:
    """No library module raises SystemExit (or typer.Exit): a library reports with exceptions, the CLI decides the exit."""
    for path in PACKAGE.rglob("*.py"):
        if _in_cli(path) or '__name__ == "__main__"' in path.read_text("utf-8"):
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
                name = target.id if isinstance(target, ast.Name) else target.attr if isinstance(target, ast.Attribute) else ""
                assert name not in ("SystemExit", "Exit"), f"{path}:{node.lineno}"


def test_no_module_imports_another_modules_private_names() -> None:
    """`from .x import _name` never appears: what one stage needs from another is public, so the seams are visible."""
    for path in [*PACKAGE.rglob("*.py"), *(ROOT / "bench").glob("*.py")]:
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level > 0 or (node.module or "").startswith("notices")):
                private = [a.name for a in node.names if a.name.startswith("_") and a.name != "__version__"]
                assert not private, f"{path}:{node.lineno} imports {private}"


def test_internal_modules_never_import_the_facade() -> None:
    """Only the package's __init__ is the facade; a module inside it imports the stage it needs, not `notices`."""
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "__init__.py":
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                # `from . import formatting` names a sibling module; `from . import run` would be the facade's name.
                bare = (node.level == 1 and node.module is None and path.parent == PACKAGE) or node.module == "notices"
                names = [a.name for a in node.names if bare and not (PACKAGE / f"{a.name}.py").exists()]
                assert not names, f"{path}:{node.lineno} imports the facade's {names}"
            elif isinstance(node, ast.Import):
                assert all(alias.name != "notices" for alias in node.names), f"{path}:{node.lineno}"


def test_importing_a_module_changes_nothing_outside_it() -> None:
    """Importing every module of the package sets no environment variable (font isolation is an explicit call)."""
    code = ("import os, pkgutil, importlib, notices\nbefore = dict(os.environ)\n"
            "for m in pkgutil.walk_packages(notices.__path__, 'notices.'):\n"
            "    try:\n"
            "        importlib.import_module(m.name)\n"
            "    except ModuleNotFoundError as e:\n"  # an optional extra (the preview's server) not installed here
            "        if (e.name or '').startswith('notices'):\n"
            "            raise\n"
            "print(sorted(set(os.environ.items()) ^ set(before.items())))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.strip().splitlines()[-1] == "[]"
