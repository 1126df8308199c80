"""The training loop: one function, read top to bottom.

    run dir <- resolved config.yaml
    task    <- phases (module + loss), dataset, validation, release
    for step: batch -> each phase: loss, backward, clip, optimiser step -> LR schedule -> EMA
              log (JSONL) / validate with EMA weights / checkpoint (atomic) / plot
    end:    checkpoint, release EMA weights as config.json + model.safetensors

Resuming restores model, EMA, optimisers, schedulers, step and RNG; the data order is a pure
function of (seed, step), so N straight steps equal k steps + resume to N, bit for bit on CPU.

Nothing is written until the config, the task, the data and (on resume) the checkpoint have been
accepted, so a refused run leaves no folder and a refused resume leaves its folder as it was. A
run folder has one trainer at a time (``train.lock``, see ``run_folder.py``).
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import torch
import yaml
from torch.utils.data import DataLoader
from tqdm import tqdm

from imagesmith.data.sampling import ResumableBatchSampler
from imagesmith.errors import UserError, one_line
from imagesmith.io.atomic import atomic_write
from imagesmith.training.checkpoint import (
    load_checkpoint,
    rng_state,
    save_checkpoint,
    set_rng_state,
)
from imagesmith.training.config import TrainConfig, check_config, resolve_config, to_dict
from imagesmith.training.distributed import init_distributed, is_main, unwrap, wrap_model
from imagesmith.training.ema import EMA
from imagesmith.training.plot import plot_log
from imagesmith.training.run_folder import RunLock, read_log, remove_temp_files, write_config
from imagesmith.training.tasks import make_task

__all__ = ["train", "lr_factor", "new_run_dir", "TrainingDiverged"]


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to ``min_lr_ratio`` (or constant)."""
    o = cfg.optim
    if o.warmup_steps and step < o.warmup_steps:
        return (step + 1) / o.warmup_steps
    if o.schedule == "constant":
        return 1.0
    t = min(1.0, (step - o.warmup_steps) / max(1, cfg.steps - o.warmup_steps))
    return o.min_lr_ratio + (1 - o.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t))


def new_run_dir(cfg: TrainConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(cfg.out_dir) / f"{cfg.name}-{stamp}"
    run, k = base, 1
    while run.exists():
        run, k = Path(f"{base}-{k}"), k + 1
    return run


def train(
    cfg: TrainConfig,
    run_dir: Path | None = None,
    resume: bool = False,
    quiet: bool = False,
    stop_at: int | None = None,
) -> Path:
    """Train ``cfg`` in ``run_dir`` (new if None); with ``resume`` continue from its last.pt.

    ``stop_at`` ends this process early at that step (checkpointed, resumable), e.g. to fit a
    long schedule into several sessions. Returns the run folder; when training is complete its
    ``model/`` subfolder holds the released EMA weights.
    """
    check_config(cfg)
    if stop_at is not None and stop_at < 1:
        raise UserError(f"stop_at must be a step >= 1, got {stop_at}")
    if resume:
        if run_dir is None or not (Path(run_dir) / "last.pt").is_file():
            raise UserError(f"{run_dir}: nothing to resume (no last.pt)")
    if cfg.device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("device cuda requested but torch sees no CUDA GPU")
    val_dir = cfg.data.val_dir
    if cfg.val_every and val_dir and not Path(val_dir).is_dir():
        # Otherwise the first validation, perhaps hours in, would be the first to notice.
        raise UserError(f"config 'data.val_dir': no such folder {val_dir!r}")
    run_dir = Path(run_dir) if run_dir is not None else new_run_dir(cfg)
    lock = RunLock(run_dir)
    try:
        return _train(cfg, run_dir, resume, quiet, stop_at, lock)
    finally:
        lock.release()  # also on errors and Ctrl-C; a kill -9 leaves a stale lock, taken over


def _train(
    cfg: TrainConfig, run_dir: Path, resume: bool, quiet: bool, stop_at: int | None, lock: RunLock
) -> Path:
    """:func:`train` once its arguments are checked; ``lock`` is released by the caller."""
    info = init_distributed(cfg.device)
    main = is_main(info)  # only rank 0 writes, so only rank 0 locks
    if main and run_dir.is_dir():
        lock.acquire()  # refuse a second trainer before doing any work
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = (
        torch.device(cfg.device, info.local_rank)
        if cfg.device == "cuda"
        else torch.device(cfg.device)
    )

    torch.manual_seed(cfg.seed)
    # On resume the checkpoint supplies the weights: skip init_from (it may be gone by now).
    task = make_task(replace(cfg, model=replace(cfg.model, init_from=None)) if resume else cfg)
    for phase in task.phases:
        phase.module.to(device)
        if cfg.channels_last:
            phase.module.to(memory_format=torch.channels_last)
    ema_source = getattr(task, "ema_module", task.phases[0].module)
    ema = EMA(ema_source, cfg.ema_decay)
    optims = [
        torch.optim.Adam(
            p.module.parameters(),
            lr=p.lr or cfg.optim.lr,
            betas=cfg.optim.betas,
            weight_decay=cfg.optim.weight_decay,
        )
        for p in task.phases
    ]
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, lambda s: lr_factor(s, cfg)) for o in optims]
    step, trained_before = 0, 0.0
    if resume:
        state = load_checkpoint(run_dir / "last.pt")
        try:
            for phase, o, s, ps in zip(task.phases, optims, scheds, state["phases"], strict=True):
                phase.module.load_state_dict(ps["module"])
                o.load_state_dict(ps["optimizer"])
                s.load_state_dict(ps["scheduler"])
            ema.load_state_dict(state["ema"])
            step = int(state["step"])
            trained_before = float(state.get("train_time", 0.0))
        except (KeyError, RuntimeError, TypeError, ValueError) as e:
            # e.g. --set model.args changed the network, or a checkpoint of another task
            raise UserError(
                f"{run_dir / 'last.pt'}: does not fit this run's config ({one_line(e, 120)})"
            ) from None
    wrapped = [wrap_model(p.module, info) for p in task.phases]

    dataset = task.train_dataset()
    sampler = ResumableBatchSampler(
        len(dataset), cfg.data.batch_size, cfg.seed, step, info.rank, info.world_size
    )
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=cfg.data.workers)
    batches = iter(loader)
    if info.world_size > 1:
        # Ranks must not draw the same z / augmentations: one stream per (seed, step, rank).
        # (Single-process resume restores the exact RNG state instead; see below.)
        torch.manual_seed(cfg.seed + 1_000_003 * info.rank + 7919 * step)
    elif resume:  # after iter(loader), which draws a base seed from the global RNG
        set_rng_state(state["rng"])

    log_path = run_dir / "log.jsonl"
    kept = None  # on resume: the log without records written after the checkpoint
    if resume and main and log_path.is_file():  # read here, so damage refuses before any write
        kept = "".join(json.dumps(r) + "\n" for r in read_log(log_path) if _step(r) <= step)

    # Everything that can refuse this run has run: only now touch the disk.
    if main:
        run_dir.mkdir(parents=True, exist_ok=True)
        lock.acquire()
        remove_temp_files(run_dir)  # of writes a killed trainer left half done
        write_config(run_dir, cfg)
        if kept is not None:  # also drops a line torn by a kill
            atomic_write(log_path, lambda tmp: tmp.write_text(kept))

    def log(record: dict) -> None:
        if main:
            with log_path.open("a") as f:
                f.write(json.dumps(record) + "\n")

    def checkpoint() -> None:
        if main:
            save_checkpoint(
                {
                    "step": step,
                    "phases": [
                        {
                            "module": unwrap(w).state_dict(),
                            "optimizer": o.state_dict(),
                            "scheduler": s.state_dict(),
                        }
                        for w, o, s in zip(wrapped, optims, scheds, strict=True)
                    ],
                    "ema": ema.state_dict(),
                    "rng": rng_state(),
                    "train_time": trained_before + time.time() - t0 - busy,
                    "config": to_dict(cfg),
                },
                run_dir / "last.pt",
            )

    def warn(record: dict) -> None:
        for message in task.health(record) if hasattr(task, "health") else []:
            if main:
                bar.write(f"warning (step {step}): {message}")
            log({"step": step, "warning": message})

    bar = tqdm(
        total=cfg.steps,
        initial=step,
        disable=quiet or not main,
        file=sys.stderr,
        mininterval=1.0 if sys.stderr.isatty() else 30.0,
        desc=cfg.name,
    )
    t0, window, busy = time.time(), [], 0.0
    end = cfg.steps if stop_at is None else min(stop_at, cfg.steps)
    while step < end:
        batch = task.to_device(next(batches), device)
        if hasattr(task, "step"):
            task.step = step
        logs: dict[str, float] = {}
        ema_due = False
        for phase, net, opt in zip(task.phases, wrapped, optims, strict=True):
            if (step + 1) % phase.every:
                continue
            with torch.autocast(device.type, torch.bfloat16, enabled=cfg.precision == "bf16"):
                loss, phase_logs = phase.loss(batch, net)
            if not torch.isfinite(loss):
                raise TrainingDiverged(phase.name, step + 1, run_dir)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if cfg.optim.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(phase.module.parameters(), cfg.optim.grad_clip)
            opt.step()
            ema_due |= phase.module is ema_source
            logs.update({f"{phase.name}/{k}": v for k, v in phase_logs.items()})
        with warnings.catch_warnings():
            # A phase that skipped this step (G under n_critic) still follows the global schedule.
            warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step", UserWarning)
            for s in scheds:
                s.step()
        if ema_due:  # the EMA follows the generator's own steps, not D-only steps
            ema.update(ema_source)
        step += 1
        window.append(logs)
        bar.update(1)

        if step % cfg.log_every == 0 or step == cfg.steps:
            mean = _mean_logs(window)
            log({"step": step, "lr": scheds[0].get_last_lr()[0], "time": time.time() - t0, **mean})
            bar.set_postfix({k.split("/")[-1]: f"{v:.4g}" for k, v in mean.items()})
            window = []
            warn(mean)
        if cfg.val_every and (step % cfg.val_every == 0 or step == cfg.steps) and main:
            t_val = time.time()
            if hasattr(task, "snapshot"):
                task.snapshot(ema.module, device, run_dir / "samples" / f"step-{step:07d}.png")
            metrics = task.validate(ema.module, device)
            if metrics:
                val = {f"val/{k}": v for k, v in metrics.items()}
                # train_time: seconds spent training so far (validation excluded), for
                # quality-versus-compute curves.
                trained = trained_before + t_val - t0 - busy
                log({"step": step, "time": t_val - t0, "train_time": trained, **val})
                bar.write(f"step {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()))
                warn(val)
            busy += time.time() - t_val
        if step % cfg.ckpt_every == 0 or step == end:
            if not all(_finite(p.module) for p in task.phases):
                raise TrainingDiverged("weights", step, run_dir)
            checkpoint()
            if main:
                plot_log(log_path, run_dir / "curves.png")
    bar.close()
    if main and step == cfg.steps:
        task.release(ema.module, run_dir / "model", trained_steps=step, run=str(run_dir))
    return run_dir


class TrainingDiverged(UserError):
    """A loss or the weights became NaN/inf; the last good checkpoint is left untouched."""

    def __init__(self, what: str, step: int, run_dir: Path) -> None:
        ckpt = run_dir / "last.pt"
        where = (
            f"the last good checkpoint is {ckpt} (resume it with a lower optim.lr)"
            if ckpt.is_file()
            else "no checkpoint was written yet"
        )
        super().__init__(f"training diverged: {what} became NaN/inf at step {step}; {where}")


def _step(record: dict) -> float:
    """A log record's step (a record without one sorts after every checkpoint: dropped)."""
    step = record.get("step")
    return step if isinstance(step, int | float) and not isinstance(step, bool) else math.inf


def _finite(module: torch.nn.Module) -> bool:
    return all(bool(torch.isfinite(p).all()) for p in module.parameters())


def _mean_logs(window: list[dict[str, float]]) -> dict[str, float]:
    """Per-key mean over a window; phases that run every k steps have fewer entries."""
    keys = dict.fromkeys(k for w in window for k in w)
    return {k: sum(w[k] for w in window if k in w) / sum(k in w for w in window) for k in keys}


def resume_config(run_dir: Path, sets: dict | None = None) -> TrainConfig:
    """The config saved in ``run_dir`` with optional overrides (e.g. more ``steps``)."""
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise UserError(f"{run_dir}: not a run folder (no config.yaml)")
    try:
        saved = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise UserError(f"{path}: not a readable config ({one_line(e, 120)})") from None
    return resolve_config(sets or {}, resolve_config(saved))
