"""The ``imagesmith`` command line.

Exit codes: 0 success; 2 a user error (one line on stderr, no traceback); 1 an internal error;
130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings

from imagesmith.errors import UserError, printable

EXIT_OK, EXIT_INTERNAL, EXIT_USER = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2, as every error
        command = self.prog.split(" ", 1)[1] if " " in self.prog else ""
        where = f" ({command})" if command else ""
        self.exit(EXIT_USER, f"imagesmith: error: {message}{where}\n")


def _add_color_fix(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--color-fix",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep the input's colour, brightness and large-scale contrast, take only the detail "
        "from the model (default: on for real-photo GAN models, off for the others)",
    )


def _add_batch_options(p: argparse.ArgumentParser, what: str = "images") -> None:
    """Options every many-files command shares (see imagesmith.batch)."""
    p.add_argument(
        "-r", "--recursive", action="store_true", help="walk sub-folders; the output mirrors them"
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.add_argument(
        "--skip-existing",
        action="store_true",
        help="keep existing outputs and go on (resumes an interrupted batch)",
    )
    p.add_argument(
        "--manifest",
        default=None,
        metavar="FILE",
        help="append one JSON line per file: input, output, status, seconds, error",
    )
    p.add_argument(
        "--shard",
        default=None,
        metavar="K/N",
        help=f"process only the K-th of N shares of the {what} (0 <= K < N), e.g. one per task "
        "of a Slurm job array",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars or notes")
    p.add_argument("--max-pixels", type=int, default=None, help="input pixel limit")
    p.add_argument(
        "--save-quality", type=int, default=95, help="JPEG/WebP quality of the written outputs"
    )


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="imagesmith", description="Image synthesis and restoration.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    up = sub.add_parser("upscale", help="super-resolve images (x2, x3, x4)")
    up.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    up.add_argument("-o", "--output", required=True, help="output file (one input) or folder")
    up.add_argument("--scale", type=int, default=None, help="2, 3 or 4 (default 4, or the model's)")
    up.add_argument("--model", default=None, help="shipped model name or model folder")
    up.add_argument("--tile", type=int, default=None, help="tile side in input pixels")
    _add_color_fix(up)
    up.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    up.add_argument(
        "--backend",
        default="torch",
        help="torch (default) or onnxruntime (the model exported to ONNX, run by onnxruntime)",
    )
    _add_batch_options(up)
    # The output quality was --quality until 0.2; dejpeg's --quality is the input's JPEG quality.
    up.add_argument("--quality", dest="old_quality", default=None, help=argparse.SUPPRESS)

    rs = sub.add_parser("restore", help="clean up real photos (noise, blur, JPEG), x1, x2 or x4")
    rs.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    rs.add_argument("-o", "--output", required=True, help="output file (one input) or folder")
    rs.add_argument("--scale", type=int, default=1, help="1 (same size, default), 2 or 4")
    rs.add_argument("--model", default=None, help="real-photo model name or folder")
    rs.add_argument(
        "--strength",
        type=float,
        default=1.0,
        help="0..1: fidelity (0: the input, or for a GAN model its pixel-loss twin) against "
        "clean-up and generated detail (1, default: the model as trained)",
    )
    rs.add_argument("--tile", type=int, default=None, help="tile side in input pixels")
    _add_color_fix(rs)
    rs.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    rs.add_argument("--backend", default="torch", help="torch (default) or onnxruntime")
    _add_batch_options(rs)

    for kind, what, level_flag, level_help in (
        (
            "denoise",
            "remove noise",
            "--sigma",
            "noise sigma on the 0-255 scale, or auto (default: estimated, white or camera noise)",
        ),
        (
            "dejpeg",
            "remove JPEG artefacts",
            "--quality",
            "JPEG quality 1-100, or auto (default: read from a JPEG file's quantisation tables, "
            "or from the 8x8 grid in the pixels of a PNG/TIFF/WebP that was a JPEG)",
        ),
    ):
        rp = sub.add_parser(kind, help=what)
        rp.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
        rp.add_argument("-o", "--output", required=True, help="output file (one input) or folder")
        rp.add_argument(level_flag, dest="level", default="auto", help=level_help)
        if kind == "denoise":
            rp.add_argument(
                "--gain",
                type=float,
                default=0.0,
                help="Poisson-Gaussian sensor noise: shot-noise gain (variance gain * x for x in "
                "[0, 1]); --sigma is then the read noise",
            )
        rp.add_argument(
            "--model",
            default=None,
            help="shipped model name or model folder"
            + (
                ", or a classical method (opencv-nlm, skimage-tv, skimage-wavelet, bm3d)"
                if kind == "denoise"
                else ""
            ),
        )
        rp.add_argument("--tile", type=int, default=None, help="tile side in pixels")
        rp.add_argument("--device", default="cpu", help="cpu, cuda or auto")
        rp.add_argument(
            "--backend",
            default="torch",
            help="torch (default) or onnxruntime (the model exported to ONNX, run by onnxruntime)",
        )
        rp.add_argument(
            "--precision", default="fp32", help="fp32, or bf16 (about 2x faster on bf16 CPUs)"
        )
        rp.add_argument(
            "--ensemble",
            action="store_true",
            help="average over 8 rotations/flips: 8x slower, slightly better",
        )
        _add_batch_options(rp)

    ip = sub.add_parser("inpaint", help="fill holes, remove objects and scratches")
    ip.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    ip.add_argument(
        "--mask",
        required=True,
        help="mask image (white = fill; with alpha: transparent = fill) used for every input, a "
        "folder of masks with the inputs' relative paths (any image suffix), or auto-scratches",
    )
    ip.add_argument("-o", "--output", required=True, help="output file (one input) or folder")
    ip.add_argument(
        "--model",
        default=None,
        help="shipped model name or model folder, or a classical method "
        "(opencv-telea, opencv-ns, skimage-biharmonic, harmonic, exemplar)",
    )
    ip.add_argument("--invert-mask", action="store_true", help="black = fill instead")
    ip.add_argument("--dilate", type=int, default=0, help="grow the hole by PX pixels")
    ip.add_argument(
        "--scratch-sensitivity",
        type=float,
        default=None,
        metavar="S",
        help="with --mask auto-scratches, 0..1: 0 finds nothing, 0.5 (default) leaves faces, "
        "text and real edges alone, 1 finds fainter, shorter scratches but also more real lines",
    )
    ip.add_argument(
        "--save-mask",
        default=None,
        metavar="PATH",
        help="also write the mask that was filled (white = filled): a file for one input, else "
        "a folder mirroring the outputs (PNG); edit it and pass it back with --mask",
    )
    ip.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ip.add_argument(
        "--backend",
        default="torch",
        help="torch (default) or onnxruntime (the model exported to ONNX, run by onnxruntime)",
    )
    _add_batch_options(ip)

    tr = sub.add_parser("train", help="train a model from a YAML recipe")
    tr.add_argument("config", nargs="?", help="recipe YAML (see configs/)")
    tr.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="sets")
    tr.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue a run")
    tr.add_argument("--run-dir", default=None, help="folder for a new run (default runs/NAME-TIME)")
    tr.add_argument("--stop-at", type=int, default=None, help="stop (resumably) at this step")

    ev = sub.add_parser("eval", help="evaluate a model under a named protocol")
    ev_sub = ev.add_subparsers(dest="eval_task", parser_class=_Parser, required=True)
    eu = ev_sub.add_parser("upscale", help="sr-y table on a folder of HR images")
    eu.add_argument("--data", required=True, help="folder of HR images (e.g. Set5/HR)")
    eu.add_argument("--scale", type=int, required=True)
    eu.add_argument(
        "--model",
        default=None,
        help="model name/folder, or 'bicubic' (default: the bicubic-trained upscale-xS)",
    )
    eu.add_argument("--protocol", default="sr-y", help="sr-y (default) or sr-rgb")
    eu.add_argument("--device", default="cpu")

    for kind, flag in (("denoise", "--sigma"), ("dejpeg", "--quality")):
        er = ev_sub.add_parser(kind, help=f"dn-rgb PSNR/SSIM of a {kind} model on clean images")
        er.add_argument("--data", required=True, help="folder of clean images (e.g. CBSD68)")
        er.add_argument(flag, dest="level", type=float, required=True)
        er.add_argument(
            "--model",
            default=None,
            help="model name/folder, classical method, or 'none' (score the degraded input)",
        )
        er.add_argument("--channels", default="auto", help="1, 3 or auto (gray if all are gray)")
        er.add_argument("--seed", type=int, default=0, help="noise seed (per image)")
        er.add_argument("--device", default="cpu")
        er.add_argument("--precision", default="fp32", help="fp32 or bf16")
        er.add_argument("--ensemble", action="store_true", help="x8 geometric self-ensemble")

    ei = ev_sub.add_parser("inpaint", help="PSNR/SSIM (whole, in hole) and KID by hole-area bin")
    ei.add_argument("--data", nargs="+", required=True, help="folders of clean images")
    ei.add_argument("--masks", default=None, help="irregular mask folder (default: shared)")
    ei.add_argument("--model", default=None, help="model name/folder or classical method")
    ei.add_argument("--bins", nargs="+", type=int, default=None, help="1..6 (default all)")
    ei.add_argument("--limit", type=int, default=0, help="first N images per folder")
    ei.add_argument(
        "--extractor",
        default=None,
        help="features model for KID (default: the shipped colour one; 'none' to skip)",
    )
    ei.add_argument("--seed", type=int, default=0)
    ei.add_argument("--device", default="cpu")

    ge = sub.add_parser("generate", help="sample images from a trained GAN or VAE")
    ge.add_argument("--model", default=None, help="shipped name, model folder or training run")
    ge.add_argument("-n", type=int, default=64, help="samples (parallel walks with --interpolate)")
    ge.add_argument("--seed", type=int, default=0)
    ge.add_argument(
        "-o",
        "--output",
        required=True,
        help="a grid image (.png, .jpg, ...), a folder (one file per sample), or with "
        "--interpolate an animation (.gif or .mp4)",
    )
    ge.add_argument("--interpolate", action="store_true", help="write a latent-space walk")
    ge.add_argument("--keyframes", type=int, default=4, help="random latents a walk visits")
    ge.add_argument("--frames", type=int, default=16, help="frames from one keyframe to the next")
    ge.add_argument("--fps", type=float, default=12.0)
    ge.add_argument("--truncation", type=float, default=None, help="GAN truncation, e.g. 0.7")
    ge.add_argument("--class", dest="label", default=None, help="class name or index")
    ge.add_argument("--nrow", type=int, default=None, help="images per grid row")
    ge.add_argument("--zoom", type=int, default=1, help="enlarge pixels (nearest) for viewing")
    ge.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    ge.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    ge.add_argument(
        "--save-quality", type=int, default=95, help="JPEG/WebP quality of the written images"
    )

    eg = ev_sub.add_parser("generate", help="FID/KID/precision-recall of a generator, with card")
    eg.add_argument("--model", default=None, help="shipped name, model folder or training run")
    eg.add_argument("--data", required=True, help="real images: folder, tar archive or idx files")
    eg.add_argument("--split", default="test", help="real reference split (default test)")
    eg.add_argument("--floor-split", default="train", help="split for the real-data floor")
    eg.add_argument("-n", type=int, default=10000, help="generated samples (default 10000)")
    eg.add_argument("--n-real", type=int, default=None, help="real reference images (all)")
    eg.add_argument("--seed", type=int, default=0)
    eg.add_argument(
        "--extractor", default=None, help="features model, 'inception' or inception:PATH"
    )
    eg.add_argument("--truncation", type=float, default=None)
    eg.add_argument("--allow-small", action="store_true", help="allow FID below 2048 samples")
    eg.add_argument("--nll-images", type=int, default=1000, help="VAE: held-out images for NLL")
    eg.add_argument("--nll-samples", type=int, default=100, help="VAE: importance samples K")
    eg.add_argument("--json", default=None, help="also write the report as JSON here")
    eg.add_argument("--device", default="cpu")

    rl = sub.add_parser("release", help="measure a finished training run and add it to the zoo")
    rl.add_argument("run", metavar="RUN_DIR", help="finished training run folder")
    rl.add_argument("name", metavar="NAME", help="zoo name, e.g. upscale-real-x4")
    rl.add_argument("--data", default=None, help="benchmark sets folder (default $IMAGESMITH_DATA)")
    rl.add_argument("--default", action="store_true", help="make it the default of its slot")
    rl.add_argument(
        "--command", dest="train_command", default=None, help="the command(s) that trained it"
    )
    rl.add_argument("--hardware", default=None, help="the card's hardware cell (default: this CPU)")
    rl.add_argument("--notes", default="", help="a paragraph appended to the card")
    rl.add_argument("--zoo", default=None, help="zoo folder (default: the package's)")
    rl.add_argument("--threads", type=int, default=1, help="torch threads for measuring")
    rl.add_argument(
        "--storage",
        default="auto",
        help="auto (float16 when the card reads the same from it), float32 or float16",
    )
    rl.add_argument("--limit", type=int, default=0, help="first N images per set (quick checks)")
    rl.add_argument("-n", type=int, default=10000, help="generators: samples for FID")
    rl.add_argument("--extractor", default=None, help="generators: feature space for FID")
    rl.add_argument("--allow-small", action="store_true", help="generators: FID below 2048")
    rl.add_argument(
        "--arch-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="ship with this weightless constructor argument changed (e.g. prefill=harmonic)",
    )

    ex = sub.add_parser("export", help="export an image-to-image model to ONNX")
    ex.add_argument("model", metavar="MODEL", help="shipped model name, model folder or run")
    ex.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    ex.add_argument("--opset", type=int, default=18, help="ONNX opset (at least 18)")
    ex.add_argument("--overwrite", action="store_true", help="replace an existing file")

    sub.add_parser("models", help="list shipped models and their measured numbers")

    de = sub.add_parser("demo", help="restore sample photos degraded as real photos are")
    de.add_argument("-o", "--output", default=None, help="output folder (default: a new temp dir)")

    sv = sub.add_parser("serve", help="the studio: a local web page and REST API")
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    sv.add_argument("--port", type=int, default=7860)
    sv.add_argument(
        "--token",
        default=None,
        help="require this token (Authorization: Bearer T, or ?token=T); needed off loopback",
    )
    sv.add_argument("--workers", type=int, default=1, help="jobs run at once (default 1)")
    sv.add_argument("--queue", type=int, default=16, help="jobs waiting at most (then 429)")
    sv.add_argument("--max-upload-mb", type=float, default=50.0, help="bytes per uploaded file")
    sv.add_argument("--max-pixels", type=int, default=None, help="pixels per uploaded image")
    sv.add_argument("--keep-minutes", type=float, default=60.0, help="how long results are kept")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help (0) or a usage error (2): return the code, don't raise
        return int(e.code or 0)
    if args.version:
        from imagesmith import __version__

        print(__version__)
        return EXIT_OK
    if not args.command:
        parser.print_help()
        return EXIT_USER
    warnings.showwarning = _one_line_warning
    try:
        from imagesmith import commands

        return getattr(commands, f"cmd_{args.command}")(args) or EXIT_OK
    except UserError as e:
        print(f"imagesmith: error: {printable(str(e))}", file=sys.stderr)
        return EXIT_USER
    except KeyboardInterrupt:
        print("imagesmith: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug: say so, keep the traceback for the report
        if os.environ.get("IMAGESMITH_DEBUG"):
            traceback.print_exc()
        else:
            print(
                f"imagesmith: internal error: {type(e).__name__}: {e} "
                "(set IMAGESMITH_DEBUG=1 for the traceback)",
                file=sys.stderr,
            )
        return EXIT_INTERNAL


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"imagesmith: warning: {message}", file=sys.stderr)


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
