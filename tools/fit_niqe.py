"""Fit the NIQE pristine model shipped with imagesmith.

    python tools/fit_niqe.py                      # $IMAGESMITH_DATA or ../shared/datasets
    python tools/fit_niqe.py --data /path/to/datasets --out model.npz

The authors' pristine model (``modelparameters.mat`` in their release) is not available here,
so the model is fitted on the project's own natural training photos, sr_train/T91 and
sr_train/BSD200, with the published recipe (96x96 patches, sharpness threshold 0.75; see
imagesmith.metrics.niqe). Scores made with it are comparable with each other, not with published
NIQE numbers. Images smaller than one 96x96 patch are skipped (T91 has one).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import os
import time
from pathlib import Path

from imagesmith.io.image import read_image
from imagesmith.metrics.niqe import DEFAULT_MODEL_FILE, fit_niqe_model

ROOT = Path(__file__).resolve().parents[1]
SETS = ("sr_train/T91", "sr_train/BSD200")
SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    default_data = os.environ.get("IMAGESMITH_DATA", "../shared/datasets")
    ap.add_argument("--data", type=Path, default=Path(default_data), help="datasets root")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "src" / "imagesmith" / "metrics" / DEFAULT_MODEL_FILE
    )
    args = ap.parse_args(argv)

    files = []
    for name in SETS:
        folder = args.data / name
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() in SUFFIXES)
        if not found:
            raise SystemExit(f"no images in {folder}")
        print(f"{name}: {len(found)} images")
        files.extend(found)

    skipped = []

    def images():
        for path in files:
            array = read_image(path).array
            if min(array.shape[:2]) < 96:  # smaller than one NIQE patch
                skipped.append(path.name)
                continue
            yield array

    start = time.perf_counter()
    model = fit_niqe_model(images(), fit_date=datetime.date.today().isoformat())
    n_used = len(files) - len(skipped)  # known once the generator is exhausted
    source = (
        f"{' + '.join(SETS)} (imagesmith's natural training photos, {n_used} images), "
        "96x96 patches, sharpness threshold 0.75, MATLAB rgb2gray luma; "
        "not the NIQE authors' pristine set"
    )
    model = dataclasses.replace(model, source=source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    took = time.perf_counter() - start
    if skipped:
        print(f"skipped {len(skipped)} images smaller than 96 px: {', '.join(skipped)}")
    print(f"{model.n_patches} patches from {n_used} images in {took:.0f}s -> {args.out}")
    print(f"source: {model.source}")


if __name__ == "__main__":
    main()
