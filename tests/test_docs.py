"""The docs run as written: every module is in the README's table, and no tracked file names a path of one machine."""

from __future__ import annotations

import re
import subprocess

from conftest import ROOT

PACKAGE = ROOT / "notices"
# A path that exists only on one machine: a home, a root's home, a workspace mount, a Windows drive.
MACHINE_PATH = re.compile(r"(?<![\w.])(?:/home/\w|/root/|/work/|/Users/\w|/tmp/pytest-|[A-Z]:\\\\Users)")


def readme_modules() -> set[str]:
    """The module paths named in the first column of the README's module table."""
    text = (ROOT / "README.md").read_text("utf-8")
    return set(re.findall(r"^\| `(notices/[\w/]+(?:\.py|/))` \|", text, re.M))


def package_modules() -> set[str]:
    """Every module of the package: top-level files, and each subpackage as a folder."""
    names = {f"notices/{p.name}" for p in PACKAGE.glob("*.py")}
    names |= {f"notices/{p.parent.name}/" for p in PACKAGE.glob("*/__init__.py")}
    return names


def test_the_readme_module_table_lists_every_module() -> None:
    """Each module (and subpackage) of notices/ has a row in the README's module table, and each row names one that exists."""
    assert package_modules() == readme_modules()


def test_no_tracked_file_names_a_path_of_one_machine() -> None:
    """Docs and code give commands that run from the repository root: no absolute path of any machine."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    offenders = []
    for name in files:
        path = ROOT / name
        if path.suffix in {".pdf", ".ttf", ".png"} or not path.is_file():
            continue
        for number, line in enumerate(path.read_text("utf-8", errors="replace").splitlines(), start=1):
            if MACHINE_PATH.search(line) and "MACHINE_PATH" not in line:
                offenders.append(f"{name}:{number}: {line.strip()[:80]}")
    assert not offenders, "\n".join(offenders)


def test_the_readme_test_command_is_the_one_ci_runs() -> None:
    """`.ci/run` runs the README's test command, word for word."""
    readme = (ROOT / "README.md").read_text("utf-8")
    command = re.search(r"^# 2\. .*\n(python3 -m venv .*)$", readme, re.M)
    assert command, "the README's quick start has no second (test) command"
    assert command.group(1) in (ROOT / ".ci" / "run").read_text("utf-8")
