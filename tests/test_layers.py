"""Imports flow one way (docs/ARCHITECTURE.md): a module may import only from lower layers."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "imagesmith"

RANK = {
    "errors": 0,
    "capabilities": 1,
    "io": 1,
    "functional": 1,
    "zoo": 1,
    "models": 2,
    "classical": 2,
    "losses": 3,
    "metrics": 3,
    "data": 3,
    "training": 4,
    "pipelines": 4,
    "evaluation": 5,
    "demo": 6,
    "release": 6,
    "batch": 6,
    "commands": 7,
    "serve": 6,
    "cli": 8,
}
# Inference must never pull in training code or training data pipelines.
FORBIDDEN = {("pipelines", "training"), ("pipelines", "data"), ("evaluation", "training")}


def _layer(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def test_one_way_imports():
    problems = []
    for path in SRC.rglob("*.py"):
        if path == SRC / "__init__.py":
            continue  # the public API re-exports lazily
        src = _layer(path)
        assert src in RANK, f"{path}: add its layer to RANK"
        for mod in _imports(path):
            parts = mod.split(".")
            if parts[0] != "imagesmith" or len(parts) < 2:
                continue
            dst = parts[1]
            if dst == src:
                continue
            if RANK[dst] >= RANK[src] or (src, dst) in FORBIDDEN:
                problems.append(f"{path.relative_to(SRC)} imports {mod}")
    assert not problems, "\n".join(problems)


def test_import_is_light():
    import subprocess
    import sys

    code = "import sys, imagesmith; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
