"""Batches: planning, shards, resume, failures that do not stop the batch, the manifest."""

import json

import numpy as np
import pytest

from imagesmith.batch import Job, find_images, in_shard, parse_shard, plan_batch, run_batch
from imagesmith.cli import main
from imagesmith.errors import UserError
from imagesmith.io.image import read_image, write_image


def _img(path, h=12, w=14):
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(len(str(path)))
    return write_image(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), path)


def _tree(root):
    """in/a.png, in/sub/b.jpg, in/sub/deeper/c.png, plus things a walk must leave out."""
    _img(root / "a.png")
    _img(root / "sub" / "b.jpg")
    _img(root / "sub" / "deeper" / "c.png")
    _img(root / ".hidden" / "d.png")
    _img(root / ".a.png.tmp-0123abcd.png")  # a temp file of an interrupted write
    (root / "notes.txt").write_text("not an image")
    return root


def test_find_images_flat_and_recursive(tmp_path):
    root = _tree(tmp_path / "in")
    assert [p.name for p in find_images(root, recursive=False)] == ["a.png"]
    rel = [p.relative_to(root).as_posix() for p in find_images(root, recursive=True)]
    assert rel == ["a.png", "sub/b.jpg", "sub/deeper/c.png"]


def test_plan_mirrors_tree_and_skips_output_inside_input(tmp_path):
    root = _tree(tmp_path / "in")
    _img(root / "out" / "a.png")  # an earlier run's output inside the input folder
    jobs = plan_batch([root], root / "out", recursive=True, skip_existing=True)
    assert [j.rel for j in jobs] == ["a.png", "sub/b.jpg", "sub/deeper/c.png"]
    assert jobs[2].target == root / "out" / "sub" / "deeper" / "c.png"


@pytest.mark.parametrize(
    "case,needle",
    [
        ("clash", "would both be written"),
        ("exists", "--skip-existing"),
        ("both", "not both"),
        ("empty", "no images"),
        ("missing", "no such file"),
    ],
)
def test_plan_refusals(case, needle, tmp_path):
    a = _img(tmp_path / "x" / "a.png")
    kw = {}
    inputs = [a]
    if case == "clash":
        inputs = [a, _img(tmp_path / "y" / "a.png")]
    elif case == "exists":
        _img(tmp_path / "out" / "a.png")
        inputs = [tmp_path / "x"]
    elif case == "both":
        kw = {"overwrite": True, "skip_existing": True}
    elif case == "empty":
        (tmp_path / "e").mkdir()
        inputs = [tmp_path / "e"]
    elif case == "missing":
        inputs = [tmp_path / "nope"]
    with pytest.raises(UserError, match=needle):
        plan_batch(inputs, tmp_path / "out", **kw)


def test_shards_partition_the_files_deterministically():
    rels = [f"d{i // 10}/img{i:03d}.png" for i in range(200)]
    shards = [parse_shard(f"{k}/4") for k in range(4)]
    owners = [[s for s in shards if in_shard(r, s)] for r in rels]
    assert all(len(o) == 1 for o in owners)  # every file in exactly one shard
    sizes = [sum(in_shard(r, s) for r in rels) for s in shards]
    assert min(sizes) > 30  # roughly even
    # golden: CRC-32 based, identical on every machine and Python version
    assert [in_shard("d0/img000.png", s) for s in shards] == [
        __import__("zlib").crc32(b"d0/img000.png") % 4 == k for k in range(4)
    ]


@pytest.mark.parametrize("raw", ["4/4", "-1/2", "1", "a/b", "1/0"])
def test_bad_shard(raw):
    with pytest.raises(UserError, match="--shard"):
        parse_shard(raw)


def test_run_batch_goes_on_after_failures_and_writes_manifest(tmp_path, capsys):
    jobs = [Job(tmp_path / f"{n}.png", tmp_path / "o" / f"{n}.png", f"{n}.png") for n in "abc"]

    def work(job, tiles):
        tiles.start(2)
        tiles(2)
        if job.rel == "b.png":
            raise UserError(f"{job.source}: cannot decode")
        if job.rel == "c.png":
            raise RuntimeError("boom")
        return "ok"

    manifest = tmp_path / "m.jsonl"
    summary = run_batch(jobs, work, manifest=manifest)
    assert (summary.done, summary.skipped, summary.failed) == (1, 0, 2)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "error" in line]
    assert len(lines) == 2 and "internal error: RuntimeError: boom" in lines[1]
    records = [json.loads(line) for line in manifest.read_text().splitlines()]
    assert [r["status"] for r in records] == ["done", "failed", "failed"]
    assert records[1]["error"].endswith("cannot decode") and records[0]["error"] is None
    assert all(r["seconds"] >= 0 for r in records)


def test_single_job_failure_propagates(tmp_path):
    job = Job(tmp_path / "a.png", tmp_path / "b.png", "b.png")

    def work(job, tiles):
        raise UserError("bad")

    with pytest.raises(UserError, match="bad"):
        run_batch([job], work)


def test_stale_temp_files_of_own_targets_are_removed(tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    mine = out / ".a.png.tmp-deadbeef.png"
    other = out / ".z.png.tmp-deadbeef.png"  # another shard's target: left alone
    mine.write_bytes(b"half")
    other.write_bytes(b"half")
    run_batch([Job(tmp_path / "a.png", out / "a.png", "a.png")], lambda j, t: None)
    assert not mine.exists() and other.exists()


# --- through the CLI --------------------------------------------------------------------------


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_batch_reports_bad_file_and_resumes(tiny_model_dir, tmp_path, capsys):
    root = _tree(tmp_path / "in")
    (root / "sub" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    manifest = tmp_path / "run.jsonl"
    argv = ["upscale", root, "-r", "-o", out, "--model", tiny_model_dir, "--manifest", manifest]
    code, stdout, err = _run(capsys, *argv)
    assert code == 2
    assert "3 done, 0 skipped, 1 failed" in stdout
    errors = [line for line in err.splitlines() if line.startswith("imagesmith: error")]
    assert len(errors) == 1 and "broken.png" in errors[0]
    assert read_image(out / "sub" / "deeper" / "c.png").array.shape == (24, 28, 3)
    assert not (out / "sub" / "broken.png").exists()

    # rerun: without a choice it refuses; with --skip-existing it resumes (skips the 3 done)
    code, _, err = _run(capsys, *argv)
    assert code == 2 and "--skip-existing" in err
    before = (out / "a.png").stat().st_mtime_ns
    (root / "sub" / "broken.png").unlink()
    code, stdout, _ = _run(capsys, *argv, "--skip-existing")
    assert code == 0 and "0 done, 3 skipped, 0 failed" in stdout
    assert (out / "a.png").stat().st_mtime_ns == before
    statuses = [json.loads(x)["status"] for x in manifest.read_text().splitlines()]
    assert statuses == ["done", "done", "failed", "done"] + ["skipped"] * 3


def test_cli_shards_split_a_folder(tiny_model_dir, tmp_path, capsys):
    root = tmp_path / "in"
    for i in range(8):
        _img(root / f"d{i % 2}" / f"{i}.png", 6, 6)
    out = tmp_path / "out"
    for k in range(3):
        code, _, _ = _run(
            capsys, "upscale", root, "-r", "-o", out, "--model", tiny_model_dir, "--shard", f"{k}/3"
        )
        assert code == 0
    written = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))
    assert written == sorted(f"d{i % 2}/{i}.png" for i in range(8))


def test_cli_old_quality_flag_points_to_new_name(tiny_model_dir, tmp_path, capsys):
    src = _img(tmp_path / "a.png")
    code, _, err = _run(capsys, "upscale", src, "-o", tmp_path / "b.jpg", "--quality", "90")
    assert code == 2 and "--save-quality" in err
    assert not (tmp_path / "b.jpg").exists()


def test_cli_inpaint_batch_with_mask_folder(tmp_path, capsys):
    root = tmp_path / "in"
    for name in ("a", "sub/b"):
        _img(root / f"{name}.png", 16, 16)
        mask = np.zeros((16, 16), np.uint8)
        mask[5:9, 5:9] = 255
        write_image(mask, tmp_path / "masks" / f"{name}.png")
    out = tmp_path / "out"
    argv = ["inpaint", root, "-r", "--mask", tmp_path / "masks", "-o", out, "--model", "harmonic"]
    code, stdout, _ = _run(capsys, *argv, "-q")
    assert code == 0 and "2 done" in stdout and "filled" not in stdout  # -q: no per-file notes
    for name in ("a", "sub/b"):
        src, res = read_image(root / f"{name}.png").array, read_image(out / f"{name}.png").array
        assert (src[:4] == res[:4]).all() and not (src[5:9, 5:9] == res[5:9, 5:9]).all()


# --- cases an adversarial probe found -----------------------------------------------------------


def test_cli_batch_without_terminal_prints_no_bars_and_one_line_per_bad_name(
    tiny_model_dir, tmp_path, capsys
):
    root = tmp_path / "in"
    _img(root / "ok.png")
    (root / "bad\nname.png").write_bytes(b"")
    code, out, err = _run(capsys, "upscale", root, "-o", tmp_path / "o", "--model", tiny_model_dir)
    assert code == 2 and "1 done, 0 skipped, 1 failed" in out
    assert err.count("\n") == 1 and "bad\\x0aname.png" in err  # no bars: stderr is no terminal
    assert "%|" not in err


def test_cli_single_failing_job_still_gets_its_manifest_line(tiny_model_dir, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.png").write_bytes(b"not a png")
    manifest = tmp_path / "m.jsonl"
    argv = ["upscale", tmp_path / "in", "-o", tmp_path / "o", "--model", tiny_model_dir]
    code, _, err = _run(capsys, *argv, "--manifest", manifest)
    assert code == 2 and len(err.strip().splitlines()) == 1
    (record,) = [json.loads(x) for x in manifest.read_text().splitlines()]
    assert record["status"] == "failed" and "a.png" in record["error"]


@pytest.mark.parametrize(
    "extra,needle",
    [
        (["--max-pixels", "0"], "--max-pixels must be positive"),
        (["--tile", "1"], "--tile 1 must be larger than the overlap"),
        (["--manifest", "IN/a.png"], "would write into an input"),
        (["-o", "OUT.gif"], "cannot write .gif"),
        (["--save-quality", "abc"], "invalid int value"),
    ],
)
def test_cli_bad_batch_options_refused_once_up_front(
    extra, needle, tiny_model_dir, tmp_path, capsys
):
    root = tmp_path / "in"
    for i in range(3):
        _img(root / f"{'a' if i == 0 else i}.png")
    before = (root / "a.png").read_bytes()
    extra = [str(e).replace("IN", str(root)).replace("OUT", str(tmp_path / "o")) for e in extra]
    argv = ["upscale", root, "--model", tiny_model_dir, *extra]
    if "-o" not in extra:
        argv += ["-o", tmp_path / "o"]
    code, _, err = _run(capsys, *argv)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("imagesmith: error:"), err
    assert needle in lines[0]
    assert (root / "a.png").read_bytes() == before and not (tmp_path / "o").exists()


def test_cli_inpaint_does_not_take_its_mask_folder_for_inputs(tmp_path, capsys):
    root = tmp_path / "in"
    _img(root / "a.png", 16, 16)
    mask = np.zeros((16, 16), np.uint8)
    mask[4:8, 4:8] = 255
    write_image(mask, root / "masks" / "a.png")
    argv = ["inpaint", root, "-r", "--mask", root / "masks", "-o", tmp_path / "o", "-q"]
    code, out, _ = _run(capsys, *argv, "--model", "harmonic")
    assert code == 0 and "1 image" in out
    assert sorted(p.name for p in (tmp_path / "o").rglob("*.png")) == ["a.png"]
