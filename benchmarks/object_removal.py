"""Object removal: object-shaped holes over the backgrounds people remove things from.

    python benchmarks/object_removal.py --sheet docs/images/object_removal.jpg

The set (fixed, built here from files in ../shared): Kodak24 photos with a creature silhouette
(the alpha of a sprite from generation/fakemon_sprites.tar.gz, dilated by 4 px as a user's brush
overshoots) laid over sand, grass, water, foliage, a wall, a horizon, a fence. The photo under
the silhouette is the ground truth, so the fill can be scored: PSNR inside the hole, and the
deep-feature distance (features-cifar10) between the filled and the true crop around the hole
(lower is closer). Rows: every shipped learned inpainter (the default first) and every
classical method. The sheet shows, per case, the crop with the hole, each method and the truth.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from imagesmith.demo import comparison_sheet  # noqa: E402
from imagesmith.io.image import read_image  # noqa: E402
from imagesmith.metrics.deep_distance import DeepDistance  # noqa: E402
from inpaint import methods  # noqa: E402

DILATE = 4  # px: a painted mask overshoots the object


@dataclass(frozen=True)
class Case:
    """A silhouette of ``height`` (fraction of the photo's height) centred at (fy, fx)."""

    photo: str
    scene: str
    fy: float
    fx: float
    height: float
    sprite: int  # index into the sprite archive's sorted names


CASES = (
    Case("kodim12", "sand", 0.78, 0.72, 0.22, 3),
    Case("kodim12", "sand and sea edge", 0.55, 0.86, 0.20, 11),
    Case("kodim22", "grass", 0.86, 0.40, 0.18, 5),
    Case("kodim13", "grass and trees", 0.62, 0.25, 0.22, 8),
    Case("kodim16", "horizon", 0.58, 0.30, 0.25, 2),
    Case("kodim16", "water", 0.82, 0.65, 0.22, 14),
    Case("kodim06", "sea horizon", 0.42, 0.20, 0.20, 7),
    Case("kodim14", "rapids", 0.78, 0.80, 0.20, 9),
    Case("kodim01", "wall", 0.35, 0.55, 0.22, 4),
    Case("kodim19", "fence", 0.80, 0.50, 0.14, 12),
    Case("kodim18", "foliage", 0.25, 0.15, 0.22, 6),
    Case("kodim24", "wall and roof", 0.30, 0.70, 0.22, 10),
)


def sprite_masks(archive: Path) -> list[np.ndarray]:
    """Alpha silhouettes (bool, cropped to their box) of the archive's sprites, sorted by name."""
    from PIL import Image

    out = []
    with tarfile.open(archive) as tar:
        members = sorted(
            (m for m in tar.getmembers() if m.isfile() and m.name.lower().endswith(".png")),
            key=lambda m: m.name,
        )
        for m in members[:64]:
            try:
                im = Image.open(io.BytesIO(tar.extractfile(m).read())).convert("RGBA")
            except OSError:  # a broken file in the archive: not a silhouette
                continue
            a = np.asarray(im)[..., 3] > 127
            if a.sum() < 200:
                continue
            ys, xs = np.nonzero(a)
            out.append(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1])
    return out


def place(shape: tuple[int, int], case: Case, sprite: np.ndarray) -> np.ndarray:
    """The case's hole (bool (H, W)): the silhouette scaled and centred, then dilated."""
    import cv2

    h, w = shape
    sh = max(8, int(case.height * h))
    sw = max(4, int(sh * sprite.shape[1] / sprite.shape[0]))
    s = cv2.resize(sprite.astype(np.uint8) * 255, (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
    mask = np.zeros((h, w), bool)
    top = int(np.clip(case.fy * h - sh / 2, 0, h - sh))
    left = int(np.clip(case.fx * w - sw / 2, 0, w - sw))
    mask[top : top + sh, left : left + sw] = s
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * DILATE + 1, 2 * DILATE + 1))
    return cv2.dilate(mask.astype(np.uint8), kernel) > 0


def crop_box(mask: np.ndarray, margin: float = 0.35) -> tuple[int, int, int, int]:
    """A square around the hole with ``margin`` of its size on each side."""
    ys, xs = np.nonzero(mask)
    cy, cx = (ys.min() + ys.max()) // 2, (xs.min() + xs.max()) // 2
    side = int(max(ys.max() - ys.min(), xs.max() - xs.min()) * (1 + 2 * margin))
    side = min(side, *mask.shape)
    top = int(np.clip(cy - side // 2, 0, mask.shape[0] - side))
    left = int(np.clip(cx - side // 2, 0, mask.shape[1] - side))
    return top, left, top + side, left + side


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(os.environ.get("IMAGESMITH_DATA", "")))
    ap.add_argument("--methods", nargs="*", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sheet", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    sprites = sprite_masks(args.data / "generation" / "fakemon_sprites.tar.gz")
    pipes = methods(args.methods)
    dist = DeepDistance.from_classifier("features-cifar10")
    rows, scores = [], {p.name: [] for p in pipes}
    seconds = {p.name: 0.0 for p in pipes}
    for case in CASES:
        photo = read_image(args.data / "denoise" / "Kodak24" / f"{case.photo}.png").array[..., :3]
        mask = place(photo.shape[:2], case, sprites[case.sprite % len(sprites)])
        t, l, b, r = crop_box(mask)
        shown = photo.copy()
        shown[mask] = (shown[mask] * 0.3 + np.array([255, 40, 40]) * 0.7).astype(np.uint8)
        row = [(f"{case.photo}: {case.scene}\nhole {100 * mask.mean():.1f}%", shown[t:b, l:r])]
        truth = torch.from_numpy(photo[t:b, l:r]).permute(2, 0, 1).float() / 255
        for p in pipes:
            t0 = time.perf_counter()
            out = p(photo, mask.astype(np.uint8)[..., None] * 255).array[..., :3]
            seconds[p.name] += time.perf_counter() - t0
            diff = out[mask].astype(np.float64) - photo[mask]
            hole_psnr = 10 * np.log10(255**2 / max(np.mean(diff**2), 1e-10))
            filled = torch.from_numpy(out[t:b, l:r]).permute(2, 0, 1).float() / 255
            dd = float(dist(filled, truth))
            scores[p.name].append((hole_psnr, dd))
            row.append((f"{p.name}\n{hole_psnr:.2f} dB, dd {dd:.3f}", out[t:b, l:r]))
        row.append(("original", photo[t:b, l:r]))
        rows.append(row)
        print(f"  {case.photo} {case.scene}", file=sys.stderr)
    print(
        f"# object removal: {len(CASES)} cases (Kodak24, sprite silhouettes); "
        f"{platform.processor() or platform.machine()}, {args.threads} threads; "
        f"{time.strftime('%Y-%m-%d')}\n"
    )
    names = [f"{c.photo} {c.scene}" for c in CASES]
    print("| method | mean hole PSNR (dB) | mean dd | " + " | ".join(names) + " | s/case |")
    print("|---|---:|---:|" + "---|" * len(names) + "---:|")
    for p in pipes:
        s = np.array(scores[p.name])
        cells = " | ".join(f"{a:.2f} / {d:.3f}" for a, d in s)
        print(
            f"| {p.name} | {s[:, 0].mean():.2f} | {s[:, 1].mean():.3f} | {cells} | "
            f"{seconds[p.name] / len(CASES):.2f} |"
        )
    if args.sheet:
        from PIL import Image as PILImage

        side = 160  # every crop resized to one cell size
        cells = [
            [
                (label, np.asarray(PILImage.fromarray(a).resize((side, side), PILImage.LANCZOS)))
                for label, a in row
            ]
            for row in rows
        ]
        comparison_sheet(cells, "object removal: hole (red), each method, the original", args.sheet)
        print(f"\nsheet: {args.sheet}")


if __name__ == "__main__":
    main()
