"""Training runs of the baselines (``lstm_lm``, ``cnn_gan``) in the GAN engine's run-folder format, and CLI.

A run writes ``runs/<run_id>/`` as :mod:`core.runs` describes: ``config.json``, ``metrics.jsonl``,
``status.json``, ``samples/`` and ``checkpoints/last.pt``/``best.pt``; a ``STOP`` file ends it cleanly
and ``--resume`` continues it. Both log the same ``q_*`` quality numbers as the GAN (against the
validation windows). The next-step LSTM logs one line per epoch and keeps its best validation
epoch as ``best.pt``; the CNN-GAN logs every ``eval_every`` iterations and keeps its best quality score.

    python -m core.train_baselines --model lstm_lm --run-dir runs/lm --epochs 60
    python -m core.train_baselines --model cnn_gan --run-dir runs/cnn --steps 3000 --max-minutes 10
    python -m core.train_baselines --export runs/lm/checkpoints/best.pt checkpoints/lstm_lm
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from core.baselines import (
    BASELINES,
    Baseline,
    BaselineConfig,
    config_from_dict,
    model_kind,
    read_checkpoint,
    sample_baseline_arrays,
    save_folder,
)
from core.cli.flags import add_dataclass_flags
from core.music.pianoroll import RollSpec, roll_from_arrays, roll_to_midi_bytes
from core.music.quality import compare_stats, quality_score, roll_stats
from core.runs import RunFiles, RunStatus, load_checkpoint, save_checkpoint_atomic
from core.train_cnn_gan import CNNGANState, CNNGANTrainConfig, bar_pairs, build_cnn_gan, gan_iteration
from core.train_lm import LMState, LMTrainConfig, build_lm, fit_lm

# ---------------------------------------------------------------- data


def corpus_windows(cfg: BaselineConfig, bars: int, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``bars`` bars (hop one bar) from one split of the corpus (all pieces when it is empty)."""
    from core.data import load_folder, windows
    from core.paths import DEFAULT_CORPUS

    spec = RollSpec(cfg.steps_per_beat, cfg.lowest_pitch, cfg.net.n_pitches)
    corpus = load_folder(Path(cfg.data_dir) if cfg.data_dir else DEFAULT_CORPUS, spec=spec)
    part = corpus.split(split) if corpus.split(split).pieces else corpus
    shifts = cfg.transpose if split == "train" else ()
    return windows(part, bars=bars, hop_bars=1, beats_per_bar=cfg.beats_per_bar, transpose=shifts)


def lm_sequences(cfg: LMTrainConfig) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Training and validation sequences ``[T, F]`` (JSB pieces or corpus windows)."""
    if cfg.data.startswith("jsb-"):
        from core.data.jsb import load_jsb

        data = load_jsb(cfg.data.removeprefix("jsb-"), lowest=cfg.lowest_pitch, n_pitches=cfg.net.n_pitches)
        return data["train"], data["valid"]

    def frames(split: str) -> list[np.ndarray]:
        active, onset = corpus_windows(cfg, cfg.bars, split)
        parts = [active, onset & active] if cfg.net.onsets else [active]
        return list(np.concatenate(parts, axis=-1).astype(np.float32))

    train = frames("train")
    if not train:
        raise ValueError("no training windows: the corpus has no piece long enough")
    return train, frames("valid") or train


# ---------------------------------------------------------------- run bookkeeping


class BaselineRun:
    """One baseline run: the run files, the status and the shared evaluation/sampling/checkpoints."""

    def __init__(self, cfg: BaselineConfig, run_dir: str | Path) -> None:
        self.cfg = cfg
        self.files = RunFiles(run_dir)
        total = cfg.epochs if isinstance(cfg, LMTrainConfig) else cfg.steps
        self.phase = "mle" if isinstance(cfg, LMTrainConfig) else "gan"
        self.status = RunStatus(total_steps=total, phase=self.phase)
        self.started = time.monotonic()
        self.best_score = math.inf
        self.first_step = 0
        self.signalled = False
        with contextlib.suppress(ValueError):  # not the main thread: signals stay with the caller
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.signalled = True

    def start(self) -> None:
        self.files.create()
        self.files.write_config(json.loads(json.dumps(asdict(self.cfg))))
        self.write_status("starting", "loading data")
        torch.set_num_threads(max(1, self.cfg.threads))
        torch.set_flush_denormal(True)
        valid_active, valid_onset = corpus_windows(self.cfg, 4, "valid")
        self.reference = roll_stats(valid_active, valid_onset, self.cfg.lowest_pitch)

    def write_status(self, state: str | None = None, message: str | None = None) -> None:
        if state is not None:
            self.status.state = state
        if message is not None:
            self.status.message = message
        self.files.write_status(self.status)

    def baseline(self, net: torch.nn.Module) -> Baseline:
        spec = RollSpec(self.cfg.steps_per_beat, self.cfg.lowest_pitch, self.cfg.net.n_pitches)
        return Baseline(kind=self.cfg.model, net=net, config=self.cfg, spec=spec)

    def quality(self, net: torch.nn.Module) -> dict:
        """``q_*`` numbers of ``eval_samples`` fresh 4-bar samples against the validation windows."""
        was_training = net.training
        net.eval()
        active, onset = sample_baseline_arrays(
            self.baseline(net), self.cfg.eval_samples, 4, self.cfg.seed + 17
        )
        net.train(was_training)
        stats = roll_stats(active, onset, self.cfg.lowest_pitch)
        comparison = compare_stats(stats, self.reference)
        record = {f"q_{k}": v for k, v in {**stats, **comparison}.items() if k != "pitch_class_hist"}
        record["q_score"] = quality_score(comparison)
        return record

    def save_samples(self, net: torch.nn.Module, step: int) -> None:
        """A few 4-bar samples as npz and MIDI in ``samples/``."""
        was_training = net.training
        net.eval()
        baseline = self.baseline(net)
        active, onset = sample_baseline_arrays(
            baseline, max(self.cfg.sample_midis, 1), 4, self.cfg.seed + step
        )
        net.train(was_training)
        np.savez_compressed(self.files.samples / f"step_{step:07d}.npz", active=active, onset=onset)
        for index in range(self.cfg.sample_midis):
            roll = roll_from_arrays(active[index], onset[index], spec=baseline.spec)
            (self.files.samples / f"step_{step:07d}_{index}.mid").write_bytes(roll_to_midi_bytes(roll))

    def log(self, record: dict, step: int) -> None:
        record.update(step=step, phase=self.phase, elapsed_s=time.monotonic() - self.started)
        self.files.append_metrics(record)
        self.status.step = step
        seconds_per_step = record["elapsed_s"] / max(step - self.first_step, 1)
        self.status.eta_s = seconds_per_step * (self.status.total_steps - step)
        self.write_status("running", f"{self.phase} step {step} of {self.status.total_steps}")

    def over(self) -> str | None:
        """Why the run should end now, if it should."""
        if self.signalled or self.files.stop_requested():
            return "stopped on request"
        limit = self.cfg.max_minutes
        return (
            "stopped at the time limit"
            if limit > 0 and time.monotonic() - self.started > 60 * limit
            else None
        )


def _checkpoint(net_state: dict, cfg: BaselineConfig, step: int, extra: dict) -> dict:
    return {"model": net_state, "config": json.loads(json.dumps(asdict(cfg))), "step": step, **extra}


# ---------------------------------------------------------------- next-step LSTM


def _lm_checkpoint(state: LMState, cfg: LMTrainConfig) -> dict:
    extra = {
        "optim": state.optimizer.state_dict(),
        "best_valid": state.best_valid,
        "stale_epochs": state.stale_epochs,
        "best_model": state.best_state or state.model.state_dict(),
    }
    return _checkpoint(state.model.state_dict(), cfg, state.epoch, extra)


def _lm_restore(cfg: LMTrainConfig, path: Path) -> LMState:
    saved = load_checkpoint(path)
    state = build_lm(cfg)
    state.model.load_state_dict(saved["model"])
    state.optimizer.load_state_dict(saved["optim"])
    state.epoch, state.best_valid = int(saved["step"]), float(saved["best_valid"])
    state.stale_epochs, state.best_state = int(saved["stale_epochs"]), saved["best_model"]
    return state


def train_lm_run(cfg: LMTrainConfig, run: BaselineRun, resume: bool) -> RunStatus:
    """The next-step LSTM's run: epochs until the annealing schedule or a limit ends it."""
    train, valid = lm_sequences(cfg)
    state = _lm_restore(cfg, run.files.last) if resume and run.files.last.exists() else build_lm(cfg)
    run.first_step = state.epoch
    reason: list[str] = []

    def on_epoch(state: LMState, record: dict) -> bool:
        epoch = state.epoch
        if record["valid_nll"] <= state.best_valid:
            best = _checkpoint(state.model.state_dict(), cfg, epoch, {"valid_nll": record["valid_nll"]})
            save_checkpoint_atomic(best, run.files.best)
        if cfg.eval_every and epoch % cfg.eval_every == 0:
            record.update(run.quality(state.model))
            run.save_samples(state.model, epoch)
        record["loss_g"] = record["train_nll"]
        record["lr_g"] = record.pop("lr")
        run.log(record, epoch)
        save_checkpoint_atomic(_lm_checkpoint(state, cfg), run.files.last)
        why = run.over()
        reason.extend([why] if why else [])
        return why is None

    state = fit_lm(cfg, train, valid, on_epoch=on_epoch, state=state)
    save_checkpoint_atomic(_lm_checkpoint(state, cfg), run.files.last)
    ended = reason[0] if reason else "finished"
    run.write_status("stopped" if reason else "finished", f"{ended} after {state.epoch} epochs")
    return run.status


# ---------------------------------------------------------------- CNN-GAN


def _gan_checkpoint(state: CNNGANState, cfg: CNNGANTrainConfig) -> dict:
    extra = {
        "discriminator": state.d.state_dict(),
        "optim": {"g": state.opt_g.state_dict(), "d": state.opt_d.state_dict()},
    }
    return _checkpoint(state.g.state_dict(), cfg, state.step, extra)


def _gan_restore(cfg: CNNGANTrainConfig, path: Path) -> CNNGANState:
    saved = load_checkpoint(path)
    state = build_cnn_gan(cfg)
    state.g.load_state_dict(saved["model"])
    state.d.load_state_dict(saved["discriminator"])
    state.opt_g.load_state_dict(saved["optim"]["g"])
    state.opt_d.load_state_dict(saved["optim"]["d"])
    state.step = int(saved["step"])
    return state


def train_cnn_gan_run(cfg: CNNGANTrainConfig, run: BaselineRun, resume: bool) -> RunStatus:
    """The CNN-GAN's run: ``steps`` iterations, evaluated every ``eval_every``."""
    pairs = bar_pairs(*corpus_windows(cfg, 2, "train"), cfg.net.steps_per_bar)
    state = _gan_restore(cfg, run.files.last) if resume and run.files.last.exists() else build_cnn_gan(cfg)
    run.first_step = state.step
    while state.step < cfg.steps:
        record = gan_iteration(state, pairs, cfg)
        step = state.step
        if cfg.eval_every and (step % cfg.eval_every == 0 or step == cfg.steps):
            record.update(run.quality(state.g))
            if record["q_score"] < run.best_score:
                run.best_score = record["q_score"]
                save_checkpoint_atomic(_gan_checkpoint(state, cfg), run.files.best)
            run.save_samples(state.g, step)
            save_checkpoint_atomic(_gan_checkpoint(state, cfg), run.files.last)
        if step % 10 == 0 or "q_score" in record:
            run.log(record, step)
        reason = run.over()
        if reason:
            save_checkpoint_atomic(_gan_checkpoint(state, cfg), run.files.last)
            run.write_status("stopped", f"{reason} at step {step}")
            return run.status
    save_checkpoint_atomic(_gan_checkpoint(state, cfg), run.files.last)
    run.write_status("finished", f"finished {state.step} steps")
    return run.status


def train_baseline(cfg: BaselineConfig, run_dir: str | Path, resume: bool = False) -> RunStatus:
    """Train (or resume) a baseline run in ``run_dir``; returns the final status."""
    run = BaselineRun(cfg, run_dir)
    try:
        run.start()
        if isinstance(cfg, LMTrainConfig):
            return train_lm_run(cfg, run, resume)
        return train_cnn_gan_run(cfg, run, resume)
    except Exception as error:
        run.write_status("failed", f"{type(error).__name__}: {error}")
        raise


def export_checkpoint(checkpoint: str | Path, out_dir: str | Path) -> Path:
    """Save a run checkpoint's sampling network as ``out_dir/model.pt`` + ``config.json``."""
    state, config = read_checkpoint(checkpoint)
    return save_folder(out_dir, state, config)


# ---------------------------------------------------------------- CLI


def build_parser(kind: str = "lstm_lm") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m core.train_baselines",
        description="Train the next-step LSTM or the CNN-GAN. Every config field of --model is a flag.",
    )
    parser.add_argument("--model", choices=sorted(BASELINES), default="lstm_lm")
    parser.add_argument("--config", type=Path, help="JSON file with config fields (nested or flat)")
    parser.add_argument("--run-dir", type=Path, help="run folder (default: runs/<model>-<date-time>)")
    parser.add_argument("--resume", action="store_true", help="continue from run-dir/checkpoints/last.pt")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config and exit")
    parser.add_argument(
        "--export", nargs=2, metavar=("CHECKPOINT", "DIR"), help="save model.pt + config.json"
    )
    train_cls, net_cls = BASELINES[kind]
    add_dataclass_flags(parser, net_cls)
    add_dataclass_flags(parser, train_cls, {"model", "net"})
    return parser


def resolve_config(args: argparse.Namespace) -> BaselineConfig:
    """Config file (or the run's own config.json on resume), then flags."""
    saved = args.run_dir / "config.json" if args.resume and args.run_dir else None
    source = args.config or (saved if saved and saved.exists() else None)
    values = json.loads(Path(source).read_text()) if source else {}
    net = dict(values.pop("net", {}) or {})
    fixed = {"model", "config", "run_dir", "resume", "print_config", "export"}
    flags = {k: v for k, v in vars(args).items() if k not in fixed}
    return config_from_dict({**values, **net, **flags, "model": args.model})


def requested_model(argv: list[str] | None = None, default: str = "lstm_gan") -> str:
    """The family a training command asks for: ``--model``, else the ``--config`` file's (or, with
    ``--resume``, the run's) ``model`` field, else ``default``."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--model")
    pre.add_argument("--config", type=Path)
    pre.add_argument("--run-dir", type=Path)
    pre.add_argument("--resume", action="store_true")
    args, _ = pre.parse_known_args(sys.argv[1:] if argv is None else argv)
    if args.model:
        return args.model
    source = args.config or (args.run_dir / "config.json" if args.resume and args.run_dir else None)
    if source and source.exists():
        return model_kind(json.loads(source.read_text()))
    return default


def main(argv: list[str] | None = None) -> int:
    kind = requested_model(argv, default="lstm_lm")
    if kind not in BASELINES:
        print(f"error: --model must be one of {', '.join(sorted(BASELINES))} here", file=sys.stderr)
        return 2
    args = build_parser(kind).parse_args(argv)
    args.model = kind
    if args.export:
        print(export_checkpoint(*args.export))
        return 0
    try:
        cfg = resolve_config(args)
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.print_config:
        print(json.dumps(asdict(cfg), indent=2))
        return 0
    run_dir = args.run_dir or Path("runs") / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}"
    status = train_baseline(cfg, run_dir, resume=args.resume)
    print(f"{status.state}: {status.message} ({run_dir})")
    return 0 if status.state in ("finished", "stopped") else 1


if __name__ == "__main__":
    sys.exit(main())
