"""Level estimation on real images: ``--sigma auto`` and ``--quality auto``.

    python benchmarks/noise_levels.py --polyu /work/data/polyu/CroppedImages [--psnr] \\
        [--plot docs/images/jpeg_quality_estimate.png]

Noise (``--polyu``: the PolyU real-noise pairs, ``*_real.JPG`` noisy and ``*_mean.JPG`` the mean
of many shots of the same scene): the truth is the standard deviation of real - mean over the
whole image and all channels (0-255 scale), and per intensity bin of the mean image; each
estimator sees the noisy image only. Then white Gaussian noise (sigma 5-50, float, unclipped,
seed 0) added to the first clean images of CBSD68 and Kodak24 (``$IMAGESMITH_DATA/denoise``),
and every clean image of both sets as it is. ``--psnr`` runs the shipped colour denoiser on
PolyU at each level (PSNR of the rounded output vs the mean image) and on clean Kodak24 (PSNR
vs the clean image: what ``auto`` costs an image without noise).

JPEG: clean Kodak24 images (never JPEG-compressed) and the first CBSD68 images saved with
Pillow at each quality (4:2:0), decoded, cropped by a seeded random 0-7 pixels (a shifted grid),
and estimated from the pixels; then images without a JPEG grid (Kodak24 as it is, and JPEG at
quality 50 resized to 3/4).
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from imagesmith.functional.noise_level import estimate_noise, estimate_noise_sigma
from imagesmith.io.jpeg_quality import estimate_jpeg_quality

QUALITIES = (*range(5, 100, 5), 97, 98, 99)
SIGMAS = (5, 15, 25, 50)
FIXED = (2, 4, 5, 6, 7, 8, 10, 12)


def load_rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def to_tensor(rgb: np.ndarray) -> torch.Tensor:
    """(H, W, 3) uint8 or float 0-255 -> (3, H, W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1))).float() / 255


def polyu_pairs(folder: Path) -> list[tuple[str, np.ndarray, np.ndarray]]:
    pairs = []
    for real in sorted(folder.glob("*_real.JPG")):
        mean = real.with_name(real.name.replace("_real", "_mean"))
        pairs.append((real.name[: -len("_real.JPG")], load_rgb(real), load_rgb(mean)))
    return pairs


def truth_curve(noisy: np.ndarray, mean: np.ndarray, edges: list[float]) -> list[float]:
    """Std of noisy - mean among pixels whose mean-image intensity lies in each bin."""
    n = noisy.astype(np.float64) - mean
    level = mean.astype(np.float64).mean(2)
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        sel = (level >= lo) & (level < hi)
        out.append(float(n[sel].std()) if sel.sum() > 1000 else float("nan"))
    return out


def summary_row(name: str, est: np.ndarray, truth: np.ndarray, groups: np.ndarray, ms: float):
    """| estimator | range | median abs error | ratio quartiles | per camera group | ms |."""
    r = est / truth
    q = np.percentile(r, [0, 25, 50, 75, 100])
    per = " / ".join(f"{np.median(r[groups == g]):.2f}" for g in np.unique(groups))
    return (
        f"| {name} | {est.min():.2f}-{est.max():.2f} | {np.median(np.abs(est - truth)):.2f} | "
        + " / ".join(f"{v:.2f}" for v in q)
        + f" | {per} | {ms:.0f} |"
    )


def noise_tables(pairs, estimators: dict[str, Callable[[torch.Tensor], float]]) -> list[str]:
    names = [p[0] for p in pairs]
    groups = np.array(["Canon" if n.startswith("Canon") else "Nikon+Sony" for n in names])
    truth = np.array([np.std(r.astype(np.float64) - m) for _, r, m in pairs])
    lines = [
        f"PolyU: {len(pairs)} pairs, truth std {np.median(truth):.2f} median "
        f"({truth.min():.2f}-{truth.max():.2f}), 0-255 scale",
        "",
        "| estimator | estimates | median abs error | estimate / truth: min / q1 / median / q3 / "
        "max | median ratio Canon / Nikon+Sony | ms / image |",
        "|---|---|---:|---|---|---:|",
    ]
    results = {}
    for label, fn in estimators.items():
        t = time.perf_counter()
        est = np.array([fn(to_tensor(r)) for _, r, _ in pairs])
        ms = (time.perf_counter() - t) * 1000 / len(pairs)
        results[label] = est
        lines.append(summary_row(label, est, truth, groups, ms))
    # The noise level function: estimated curve vs truth per intensity bin of the image.
    ratios = {k: [] for k in ("dark", "mid", "bright")}
    for _, r, m in pairs:
        found = estimate_noise(to_tensor(r))
        xs = [c[0] * 255 for c in found.curve]
        edges = [0.0] + [(a + b) / 2 for a, b in zip(xs[:-1], xs[1:], strict=True)] + [256.0]
        true = truth_curve(r, m, edges)
        thirds = np.array_split(np.arange(len(xs)), 3)
        for key, idx in zip(ratios, thirds, strict=True):
            pairs_ok = [(found.curve[i][1] * 255, true[i]) for i in idx if np.isfinite(true[i])]
            if pairs_ok:
                ratios[key].append(np.median([e / t for e, t in pairs_ok]))
    lines += [
        "",
        "Noise level function (estimate_noise's curve vs the std of real - mean per intensity "
        "bin), median ratio over images: "
        + ", ".join(
            f"{k} {np.median(v):.2f} (q1 {np.percentile(v, 25):.2f}, q3 {np.percentile(v, 75):.2f})"
            for k, v in ratios.items()
        ),
    ]
    return lines, results, truth


def white_tables(clean: list[tuple[str, np.ndarray]], all_clean: list[np.ndarray]) -> list[str]:
    g = np.random.default_rng(0)
    old = lambda x: estimate_noise_sigma(x) * 255  # noqa: E731
    new = lambda x: estimate_noise(x).sigma * 255  # noqa: E731
    lines = [
        f"White Gaussian noise on {len(clean)} clean images "
        f"({', '.join(n for n, _ in clean)}): estimate / sigma, median [min, max]",
        "",
        "| estimator | clean (sigma 0): median [max] | "
        + " | ".join(f"s{s}" for s in SIGMAS)
        + " |",
        "|---|---|" + "---|" * len(SIGMAS),
    ]
    noisy = {s: [c + g.normal(0, s, c.shape) for _, c in clean] for s in SIGMAS}
    for label, fn in (("old: patch-PCA", old), ("new: estimate_noise", new)):
        zero = np.array([fn(to_tensor(c.astype(np.float64))) for _, c in clean])
        cells = [f"{np.median(zero):.2f} [{zero.max():.2f}]"]
        for s in SIGMAS:
            r = np.array([fn(to_tensor(x)) for x in noisy[s]]) / s
            cells.append(f"{np.median(r):.3f} [{r.min():.3f}, {r.max():.3f}]")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    found = [estimate_noise(to_tensor(c)) for c in all_clean]
    sig = np.array([f.sigma * 255 for f in found])
    white = np.array([f.white_sigma * 255 for f in found])
    lines += [
        "",
        f"All {len(all_clean)} clean CBSD68 + Kodak24 images as they are: new estimate median "
        f"{np.median(sig):.2f}, 90th percentile {np.percentile(sig, 90):.2f}, max {sig.max():.2f} "
        f"({sum(f.correlated for f in found)} read as correlated noise); old estimate median "
        f"{np.median(white):.2f}, max {white.max():.2f}.",
    ]
    return lines


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(255**2 / np.mean((a.astype(np.float64) - b) ** 2)))


def psnr_tables(pairs, results: dict[str, np.ndarray], kodak: list[np.ndarray]) -> list[str]:
    """The shipped colour denoiser on PolyU at each level, and on clean Kodak24 with auto."""
    from imagesmith.pipelines.restore import RestorePipeline

    pipe = RestorePipeline.from_pretrained(kind="denoise")

    def run(rgb: np.ndarray, level: float, gain: float = 0.0) -> np.ndarray:
        y = pipe.restore_tensor(to_tensor(rgb), float(level), gain=gain)
        return (y.numpy().transpose(1, 2, 0) * 255).round()

    rows: list[tuple[str, float, str]] = []
    rows.append(("noisy input", np.mean([psnr(r, m) for _, r, m in pairs]), "-"))
    for label, est in results.items():
        scores = [psnr(run(r, s), m) for (_, r, m), s in zip(pairs, est, strict=True)]
        rows.append((f"auto, {label}", float(np.mean(scores)), f"{np.mean(est):.2f}"))
    fits = [estimate_noise(to_tensor(r)) for _, r, _ in pairs]
    scores = [
        psnr(run(r, f.read_sigma * 255, f.gain), m)
        for (_, r, m), f in zip(pairs, fits, strict=True)
    ]
    rows.append(
        ("auto, new, Poisson-Gaussian level map (fitted gain, read)", np.mean(scores), "map")
    )
    fixed = {s: float(np.mean([psnr(run(r, s), m) for _, r, m in pairs])) for s in FIXED}
    best = max(fixed, key=fixed.get)
    for s, v in fixed.items():
        rows.append((f"fixed sigma {s:g}" + (" (best fixed)" if s == best else ""), v, f"{s:g}"))
    lines = [
        "PolyU, shipped denoiser (denoise-color, fp32): PSNR of the output vs the mean image",
        "",
        "| level | PSNR (dB) | mean level |",
        "|---|---:|---:|",
    ]
    lines += [f"| {n} | {v:.2f} | {lv} |" for n, v, lv in rows]
    clean_rows = []
    for label, fn in (
        ("old auto", lambda x: estimate_noise_sigma(x) * 255),
        ("new auto", lambda x: estimate_noise(x).sigma * 255),
    ):
        levels = [fn(to_tensor(c)) for c in kodak]
        score = np.mean([psnr(run(c, s), c) for c, s in zip(kodak, levels, strict=True)])
        clean_rows.append(f"{label}: mean level {np.mean(levels):.2f}, PSNR {score:.2f} dB")
    lines += [
        "",
        f"Clean Kodak24 ({len(kodak)} images) through the denoiser at the auto level, PSNR vs "
        "the clean image (how much auto changes a photo without added noise): "
        + "; ".join(clean_rows),
    ]
    return lines


def through_jpeg(rgb: np.ndarray, quality: int, encoder: str = "pillow") -> np.ndarray:
    """``rgb`` saved as a JPEG at ``quality`` and decoded, by Pillow or by OpenCV."""
    if encoder == "opencv":
        import cv2

        ok, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
        return cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return np.asarray(Image.open(buf).convert("RGB"))


def jpeg_trials(
    images: list[tuple[str, np.ndarray]], qualities=QUALITIES, seed: int = 0, encoder="pillow"
) -> list[tuple[int, int | None, float]]:
    """(true quality, estimate, seconds) for every image at every quality, grid shifted."""
    g = np.random.default_rng(seed)
    out = []
    for _, rgb in images:
        for q in qualities:
            dec = through_jpeg(rgb, q, encoder)
            top, left = (int(v) for v in g.integers(0, 8, 2))
            t = time.perf_counter()
            found = estimate_jpeg_quality(dec[top:, left:])
            out.append((q, found.quality, time.perf_counter() - t))
    return out


def jpeg_table(trials: list[tuple[int, int | None, float]], title: str) -> list[str]:
    lines = [
        title,
        "",
        "| true quality | images | exact | within 2 | median estimate | max error | none found |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for q in sorted({t[0] for t in trials}):
        est = [e for tq, e, _ in trials if tq == q]
        found = np.array([e for e in est if e is not None], dtype=float)
        err = np.abs(found - q)
        median, worst = (
            (f"{np.median(found):.0f}", f"{err.max():.0f}") if len(found) else ("-", "-")
        )
        lines.append(
            f"| {q} | {len(est)} | {(err == 0).sum() / len(est):.0%} | "
            f"{(err <= 2).sum() / len(est):.0%} | {median} | {worst} | {len(est) - len(found)} |"
        )
    ms = np.mean([t[2] for t in trials]) * 1000
    lines.append(f"\n{ms:.0f} ms per image (estimate only).")
    return lines


def no_grid_lines(kodak: list[tuple[str, np.ndarray]], cbsd: list[tuple[str, np.ndarray]]):
    plain = [estimate_jpeg_quality(rgb).quality for _, rgb in kodak]
    resized = []
    for _, rgb in kodak:
        buf = io.BytesIO()
        Image.fromarray(rgb).save(buf, "JPEG", quality=50)
        im = Image.open(buf).convert("RGB")
        im = im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.BICUBIC)
        resized.append(estimate_jpeg_quality(np.asarray(im)).quality)
    bsd = [estimate_jpeg_quality(rgb).quality for _, rgb in cbsd]
    return [
        f"No JPEG grid: Kodak24 as it is: {plain.count(None)} / {len(plain)} none found "
        f"(others: {[q for q in plain if q is not None]}); Kodak24 JPEG q50 resized to 3/4: "
        f"{resized.count(None)} / {len(resized)} none found. The CBSD68 PNGs as they are (the "
        f"BSDS photographs were JPEG files): {sorted({q for q in bsd if q is not None})} on "
        f"{sum(q is not None for q in bsd)} / {len(bsd)}.",
    ]


def plot_jpeg(trials: list[tuple[int, int | None, float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    g = np.random.default_rng(0)
    fig, ax = plt.subplots(figsize=(5, 5))
    q = np.array([t[0] for t in trials if t[1] is not None], dtype=float)
    e = np.array([t[1] for t in trials if t[1] is not None], dtype=float)
    ax.plot([0, 100], [0, 100], color="0.7", lw=1)
    ax.scatter(q + g.uniform(-1.5, 1.5, len(q)), e, s=8, alpha=0.5)
    ax.set_xlabel("quality the image was saved with (Pillow)")
    ax.set_ylabel("quality estimated from the decoded pixels")
    ax.set_title(f"quality auto from the pixels ({len(trials)} images)")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--polyu", type=Path, default=None, help="PolyU CroppedImages folder")
    ap.add_argument("--data", default=os.environ.get("IMAGESMITH_DATA", "../shared/datasets"))
    ap.add_argument("--clean", type=int, default=6, help="clean images per set for white noise")
    ap.add_argument("--jpeg-cbsd", type=int, default=12, help="CBSD68 images in the JPEG table")
    ap.add_argument("--psnr", action="store_true", help="denoiser PSNR (about 20 min on a core)")
    ap.add_argument("--plot", type=Path, default=None, help="save the JPEG scatter plot here")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    data = Path(args.data) / "denoise"
    kodak = [(p.name, load_rgb(p)) for p in sorted((data / "Kodak24").glob("*.png"))]
    cbsd = [(p.name, load_rgb(p)) for p in sorted((data / "CBSD68").glob("*.png"))]
    print(
        f"# Level estimation, {platform.processor() or platform.machine()}, {args.threads} "
        f"thread(s), torch {torch.__version__}, {time.strftime('%Y-%m-%d')}\n"
    )
    if args.polyu:
        pairs = polyu_pairs(args.polyu)
        estimators = {
            "old: patch-PCA": lambda x: estimate_noise_sigma(x) * 255,
            "new: estimate_noise": lambda x: estimate_noise(x).sigma * 255,
        }
        lines, results, _ = noise_tables(pairs, estimators)
        print("\n".join(lines) + "\n")
    clean = cbsd[: args.clean] + kodak[: args.clean]
    print("\n".join(white_tables(clean, [c for _, c in cbsd + kodak])) + "\n")
    if args.polyu and args.psnr:
        print("\n".join(psnr_tables(pairs, results, [c for _, c in kodak])) + "\n")
    trials = jpeg_trials(kodak) + jpeg_trials(cbsd[: args.jpeg_cbsd], seed=1)
    title = (
        f"JPEG quality from the pixels: Kodak24 ({len(kodak)}) and CBSD68 (first "
        f"{args.jpeg_cbsd}, themselves from JPEG files), Pillow 4:2:0, grid shifted 0-7 px"
    )
    print("\n".join(jpeg_table(trials, title)) + "\n")
    try:
        import cv2  # noqa: F401

        cv = jpeg_trials(kodak, (10, 30, 50, 70, 90, 95), seed=2, encoder="opencv")
        print("\n".join(jpeg_table(cv, "Kodak24 through OpenCV's encoder and decoder")) + "\n")
    except ImportError:
        print("(OpenCV not installed: no OpenCV rows)\n")
    print("\n".join(no_grid_lines(kodak, cbsd)))
    if args.plot:
        plot_jpeg(trials, args.plot)
        print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()
