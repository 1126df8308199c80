"""Shipped generators in one table, same protocol, same run; FID-versus-CPU-minutes curves.

    python benchmarks/generate.py --threads 2            # table to stdout, figures to docs/images

For every shipped generative model (zoo task ``generate``): FID, KID, precision and recall of
``-n`` samples against the held-out split of its data in its domain feature space, the
real-data floor (train vs test, same counts) in the same space, VAE likelihoods, parameters and
CPU milliseconds per sample. Figures: one sample sheet per model; the FID-versus-training-minutes
curve of every model (logged during training at fixed seeds, 2048 samples); and for small data
sets a nearest-neighbour sheet (each sample beside its closest training images in feature
space), so memorisation is visible.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from imagesmith.data.image_sets import load_image_set
from imagesmith.evaluation.generate import evaluate_generator, vae_likelihood
from imagesmith.functional.grid import make_grid
from imagesmith.io.image import write_image
from imagesmith.metrics.extractors import load_extractor
from imagesmith.metrics.features import extract
from imagesmith.pipelines.generate import GeneratePipeline
from imagesmith.training.config import expand
from imagesmith.zoo import index

REPO = Path(__file__).resolve().parents[1]
BASELINE = "dcgan-fashion"  # the textbook DCGAN every better generator is measured against


def _data(entry: dict) -> tuple[str, str | None, str | None]:
    d = entry.get("data") or {}
    return expand(d["source"]), d.get("split"), d.get("val_split")


def _ms_per_sample(gen: GeneratePipeline, n: int = 256) -> float:
    gen.sample(8)
    t = time.perf_counter()
    gen.sample(n, seed=1)
    return (time.perf_counter() - t) * 1000 / n


def nearest_sheet(gen: GeneratePipeline, entry: dict, out: Path, k: int = 3, n: int = 12) -> None:
    """Rows: a sample, then its k nearest training images in the domain feature space."""
    source, split, _ = _data(entry)
    args = gen.spec.arch_args
    data = load_image_set(
        source,
        size=int(args["resolution"]),
        channels=int(args["channels"]),
        split=split,
        fit=entry["data"].get("fit", "center-crop"),
    )
    extractor = load_extractor(entry["metrics"]["extractor"])
    train = data.images.float() / 255.0
    train_feats = extract(extractor, train, 250)
    fakes = gen.sample(n, seed=0)
    fake_feats = extract(extractor, (fakes + 1) / 2, 250)
    nearest = torch.cdist(fake_feats, train_feats).topk(k, largest=False).indices
    rows = []
    for i in range(n):
        rows.append(fakes[i])
        rows.extend(train[j] * 2 - 1 for j in nearest[i])
    grid = make_grid(torch.stack(rows), nrow=k + 1)
    write_image(grid, out, overwrite=True)


def plot_curves(entries: dict[str, dict], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, e in sorted(entries.items()):
        curve = e.get("curve") or []
        if curve:
            ax.plot([c[1] for c in curve], [c[2] for c in curve], marker="o", ms=3, label=name)
    ax.set_xlabel("training CPU minutes (validation excluded)")
    ax.set_ylabel("FID, domain features, 2048 samples")
    ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def _minutes(entry: dict) -> float | None:
    curve = entry.get("curve") or []
    return curve[-1][1] if curve else None


def print_ratios(entries: dict[str, dict], fids: dict[str, float], base: str = BASELINE) -> None:
    """Each GAN's FID over the baseline DCGAN's, where both share data and feature space."""
    if base not in fids:
        return
    b = entries[base]
    print(f"\n# FID relative to {base} (same data, extractor, samples; training CPU minutes)")
    for name, e in sorted(entries.items()):
        same = (
            e.get("data") == b.get("data")
            and e["metrics"]["extractor"] == b["metrics"]["extractor"]
        )
        if name == base or e.get("kind") != "gan" or not same or name not in fids:
            continue
        print(
            f"{name}: {fids[name]:.2f} / {fids[base]:.2f} = {fids[name] / fids[base]:.2f}x "
            f"({_minutes(e)} vs {_minutes(b)} min)"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=10000, help="generated samples per model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--figures", type=Path, default=REPO / "docs" / "images")
    ap.add_argument("--models", nargs="*", default=None, help="default: every shipped generator")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.environ.setdefault("IMAGESMITH_DATA", str(REPO.parent / "shared" / "datasets"))

    entries = {
        n: e
        for n, e in index().items()
        if e["task"] == "generate" and (not args.models or n in args.models)
    }
    if not entries:
        raise SystemExit("no shipped generators")
    args.figures.mkdir(parents=True, exist_ok=True)
    print(
        f"# generators, {args.n} samples each; {time.strftime('%Y-%m-%d')}, {args.threads} threads"
    )
    header = (
        "| model | kind | params | data (reference split) | extractor | FID | floor FID | "
        "KID x1e3 [95%] | precision | recall | NLL bpd | CPU ms/sample |"
    )
    print(header)
    print("|" + "---|" * 12)
    fids: dict[str, float] = {}
    for name, e in sorted(entries.items()):
        gen = GeneratePipeline.from_pretrained(name)
        source, split, val_split = _data(e)
        extractor = load_extractor(e["metrics"]["extractor"])
        m = e["metrics"]
        report = evaluate_generator(
            gen,
            source,
            extractor,
            n=min(args.n, m.get("n", args.n)),
            split=val_split or split,
            floor_split=m.get("floor_split") or (split if val_split else "half"),
            allow_small=bool(m.get("allow_small")),
        )
        nll = "-"
        if gen.kind == "vae":
            nll = f"{vae_likelihood(gen, source, split=val_split).nll_bpd:.3f}"
        fids[name] = report.fid
        k = report.kid
        floor = f"{report.floor.fid:.2f}" if report.floor else "-"
        print(
            f"| {name} | {gen.kind} | {e['params']:,} | {Path(source).name} ({val_split}) | "
            f"{e['metrics']['extractor']} | {report.fid:.2f} | {floor} | "
            f"{k.mean * 1e3:.2f} [{k.low * 1e3:.2f}, {k.high * 1e3:.2f}] | "
            f"{report.precision:.3f} | {report.recall:.3f} | {nll} | {_ms_per_sample(gen):.2f} |",
            flush=True,
        )
        sheet = make_grid(gen.sample(64, seed=0))
        write_image(sheet, args.figures / f"samples_{name}.png", overwrite=True)
        if e.get("data", {}).get("nearest_sheet"):
            nearest_sheet(gen, e, args.figures / f"nearest_{name}.png")
    plot_curves(entries, args.figures / "fid_vs_minutes.png")
    print_ratios(entries, fids)
    print(f"\nfigures in {args.figures}")


if __name__ == "__main__":
    main()
