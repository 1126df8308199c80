"""Print the README results table from the zoo index (measured numbers only) and published anchors.

python tools/results_table.py
"""

from __future__ import annotations

from imagesmith.zoo import index

# Published sr-y numbers (ANCHORS.md; Set14 x3 from the FSRCNN and EDSR papers).
FSRCNN = {2: (37.05, 32.66), 3: (33.18, 29.37), 4: (30.72, 27.61)}
EDSR_BASELINE = {2: (37.99, 33.57), 3: (34.37, 30.28), 4: (32.09, 28.58)}


def main() -> None:
    print(
        "| model | scale | params | Set5 PSNR / SSIM | Set14 PSNR / SSIM "
        "| FSRCNN (published) | EDSR-baseline (published) |"
    )
    print("|---|---|---:|---|---|---|---|")
    upscalers = {n: e for n, e in index().items() if e["task"] == "upscale"}
    for name, e in sorted(upscalers.items(), key=lambda kv: (kv[1]["scale"], kv[0])):
        s, m = e["scale"], e["metrics"]
        cells = [f"{m[d]['psnr']:.2f} / {m[d]['ssim']:.4f}" for d in ("Set5", "Set14")]
        f, b = FSRCNN[s], EDSR_BASELINE[s]
        star = " (default)" if e.get("default") else ""
        print(
            f"| `{name}`{star} | x{s} | {e['params']:,} | {cells[0]} | {cells[1]} "
            f"| {f[0]:.2f} / {f[1]:.2f} | {b[0]:.2f} / {b[1]:.2f} |"
        )
    print(
        "\nPSNR in dB under sr-y (Y channel BT.601, crop = scale, uint8 outputs, MATLAB-bicubic "
        "LR); measured by `imagesmith release`, re-checked by `tests/zoo`."
    )


if __name__ == "__main__":
    main()
