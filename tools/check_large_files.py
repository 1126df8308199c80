"""Refuse files above a size limit (a pre-commit hook): weights and data sets do not belong in
git history unless they are a release (zoo weights, added by `imagesmith release`).

    python tools/check_large_files.py FILE...      # exit 1 naming each file over the limit
    python tools/check_large_files.py --max-kb 2048 FILE...

Shipped weights under ``src/imagesmith/zoo/`` are allowed up to ``--zoo-max-kb`` (a release
should store float16 where the card reads the same: ``imagesmith release``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ZOO = "src/imagesmith/zoo/"


def too_large(paths: list[str], max_kb: int, zoo_max_kb: int) -> list[str]:
    """``path (size kB > limit kB)`` for every existing file over its limit."""
    out = []
    for name in paths:
        p = Path(name)
        if not p.is_file():
            continue
        limit = zoo_max_kb if name.replace("\\", "/").startswith(ZOO) else max_kb
        kb = p.stat().st_size / 1024
        if kb > limit:
            out.append(f"{name} ({kb:.0f} kB > {limit} kB)")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--max-kb", type=int, default=1024)
    ap.add_argument("--zoo-max-kb", type=int, default=16384)
    args = ap.parse_args(argv)
    bad = too_large(args.files, args.max_kb, args.zoo_max_kb)
    for line in bad:
        print(f"too large for git: {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
