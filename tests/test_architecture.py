"""The dependency rules of DESIGN.md, enforced by walking every module's imports (ast).

steps -> shared; cli -> twin -> engine; twin and cli -> shared; infra -> shared; everyone may
import the dependency-free `baton_limits`, which imports nothing of ours. The engine imports
nothing first-party but `baton_limits`; nothing imports the CLI; a step never imports another
step; shared imports none of them; `core.py` stays pure; every module has a docstring; there is
no utils-like grab bag.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STEP_PACKAGES = {f"baton_{s}" for s in ("extract", "transform", "validate", "load")}
PACKAGES = {
    "baton": ROOT / "shared" / "baton",
    **{p: ROOT / "steps" / p.removeprefix("baton_") / p for p in sorted(STEP_PACKAGES)},
    "baton_limits": ROOT / "workflows" / "limits" / "baton_limits",
    "baton_engine": ROOT / "workflows" / "engine" / "baton_engine",
    "baton_twin": ROOT / "workflows" / "twin" / "baton_twin",
    "baton_cli": ROOT / "workflows" / "cli" / "baton_cli",
}
INFRA = ROOT / "infra"
OURS = {
    "baton",
    "baton_limits",
    "baton_engine",
    "baton_twin",
    "baton_cli",
    "baton_infra",
    "infra",
    *STEP_PACKAGES,
}
PURE_CORE_FORBIDS = {"google", "os", "typer", "structlog", "pathlib", "duckdb"}
PURE_CORE_FORBIDS_MODULES = {"baton.storage"}
GRAB_BAGS = {"utils", "util", "helpers", "misc", "common", "verbs"}


def _modules(package_dir: Path) -> list[Path]:
    return sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Top-level names of every module `path` imports (absolute imports)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def _ours(path: Path) -> set[str]:
    return _imports(path) & OURS


def _all_modules() -> list[Path]:
    paths = [m for d in PACKAGES.values() for m in _modules(d)]
    return paths + (_modules(INFRA) if INFRA.is_dir() else [])


def _id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_every_package_is_found():
    for name, directory in PACKAGES.items():
        assert (directory / "__init__.py").is_file(), name


@pytest.mark.parametrize("path", _modules(PACKAGES["baton"]), ids=_id)
def test_shared_imports_no_step_workflows_or_infra(path):
    assert _ours(path) <= {"baton", "baton_limits"}


@pytest.mark.parametrize(
    "path", [m for p in sorted(STEP_PACKAGES) for m in _modules(PACKAGES[p])], ids=_id
)
def test_a_step_imports_only_baton_and_itself(path):
    own = next(p for p in STEP_PACKAGES if PACKAGES[p] in path.parents)
    assert _ours(path) <= {"baton", "baton_limits", own}


@pytest.mark.parametrize("path", _modules(PACKAGES["baton_limits"]), ids=_id)
def test_the_limits_import_nothing_of_ours(path):
    assert _ours(path) <= {"baton_limits"}


@pytest.mark.parametrize("path", _modules(PACKAGES["baton_engine"]), ids=_id)
def test_the_engine_imports_nothing_first_party_but_the_limits(path):
    assert _ours(path) <= {"baton_engine", "baton_limits"}


@pytest.mark.parametrize("path", _modules(PACKAGES["baton_twin"]), ids=_id)
def test_the_twin_imports_only_the_engine_and_baton(path):
    assert _ours(path) <= {"baton_twin", "baton_engine", "baton", "baton_limits"}


@pytest.mark.parametrize("path", _modules(PACKAGES["baton_cli"]), ids=_id)
def test_the_cli_imports_the_twin_engine_and_baton(path):
    assert _ours(path) <= {"baton_cli", "baton_twin", "baton_engine", "baton", "baton_limits"}


@pytest.mark.parametrize(
    "path", [m for m in _all_modules() if PACKAGES["baton_cli"] not in m.parents], ids=_id
)
def test_nothing_imports_the_cli(path):
    assert "baton_cli" not in _imports(path)


def test_infra_imports_only_baton_and_itself():
    for path in _modules(INFRA):
        assert _ours(path) <= {"baton", "baton_limits", "baton_infra", "infra"}, _id(path)


def _module_imports(path: Path) -> set[str]:
    """Full dotted names of every module `path` imports (absolute imports)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(ROOT.glob("steps/*/baton_*/core.py")), ids=_id)
def test_core_modules_are_pure_polars(path):
    assert not _imports(path) & PURE_CORE_FORBIDS
    assert not _module_imports(path) & PURE_CORE_FORBIDS_MODULES


def test_there_is_a_core_module_per_step():
    assert {p.parent.name for p in ROOT.glob("steps/*/baton_*/core.py")} == STEP_PACKAGES


@pytest.mark.parametrize("path", _all_modules(), ids=_id)
def test_every_module_opens_with_a_docstring(path):
    docstring = ast.get_docstring(ast.parse(path.read_text()))
    assert docstring and docstring.strip(), f"{_id(path)} has no module docstring"


def test_there_is_no_grab_bag_module():
    suspects = [
        _id(p)
        for p in ROOT.rglob("*.py")
        if p.stem in GRAB_BAGS and not {".venv", ".tools", "node_modules"} & set(p.parts)
    ]
    assert suspects == []


def test_nothing_reads_the_environment_at_import_time():
    """Module-level code never touches os.environ / os.getenv (config is built in CLI layers)."""
    offenders = []
    for path in _all_modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            text = ast.unparse(node)
            if "os.environ" in text or "getenv" in text:
                offenders.append(_id(path))
    assert offenders == []
