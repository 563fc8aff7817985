"""Training throughput of the GAN engine, side by side with C-RNN-GAN's published architecture.

Each row runs in a fresh process on one thread: our engine (``core.training.lstm_gan.GANTrainer.gan_step``:
one discriminator and one generator update on one batch) or the peer (``crnngan_reference.CRNNGAN``: one
generator update through the discriminator, then one discriminator update, as the public PyTorch port of
C-RNN-GAN does it). The figure is sample-steps (sequences × steps) per CPU-second of the process, so other
work on a shared machine counts as little as possible. The rows run in rounds, one process after another,
and every ratio compares rows of the same round; ``--repeats`` rounds give a range.

The same run measures the matmul peak (large square GEMMs, one thread, fp32 and bf16), and each row's
achieved GFLOP/s from model FLOPs counted analytically with one formula for both engines: the generator's
forward and backward pass (3× its forward), the discriminator's forward and backward pass on real and fake
sequences (2 × 3×), and its forward pass and input gradients for the generator's update (2×). Work that an
engine does beyond this is not counted: the port computes (and discards) the discriminator's weight
gradients in the generator's update; our engine replays the free run's forward pass to get its gradients.

    python benchmarks/bench_train.py --repeats 3           # every row in ROWS
    python benchmarks/bench_train.py --rows peer:fp32,crnngan:bf16 --iters 2 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from crnngan_reference import CRNNGAN  # noqa: E402
from crnngan_reference import FEATURES as PEER_FEATURES  # noqa: E402

from core.data.config import DataConfig  # noqa: E402
from core.models.lstm_gan import ModelConfig  # noqa: E402
from core.training.context import Context  # noqa: E402
from core.training.data import WindowSet  # noqa: E402
from core.training.lstm_gan import GANTrainConfig, GANTrainer  # noqa: E402

EQUAL_WIDTH = ModelConfig(g_hidden=256, g_layers=2, d_hidden=256, d_layers=2)
"""C-RNN-GAN's widths: generator 2 × 256 LSTM, discriminator 2 × 256 bidirectional LSTM."""
STEPS_256 = DataConfig(bars=16)  # 16 bars of sixteenths = 256 steps, the port's sequence length

CONFIGS = {
    # the port's workload at its batch: one D and one G update, no maximum-likelihood term in G's loss
    "crnngan": GANTrainConfig(net=EQUAL_WIDTH, data=STEPS_256, batch_size=16, mle_weight=0.0),
    # the same in the port's update order: G through D before D's update, one D pass for both updates
    "crnngan_gfirst": GANTrainConfig(
        net=EQUAL_WIDTH, data=STEPS_256, batch_size=16, mle_weight=0.0, g_first=True
    ),
    # the same with our recipe's teacher-forced MLE term kept in G's loss (an extra G pass on real windows)
    "crnngan_mle": GANTrainConfig(net=EQUAL_WIDTH, data=STEPS_256, batch_size=16),
    # our training batch
    "crnngan_b64": GANTrainConfig(net=EQUAL_WIDTH, data=STEPS_256, batch_size=64, mle_weight=0.0),
    # the shipped recipe's sizes (D 2 × 128, 64 steps, batch 64, MLE term on)
    "default": GANTrainConfig(),
}
PEERS = {"peer": 16, "peer_b64": 64}
"""C-RNN-GAN's published architecture (``crnngan_reference``) at the port's batch and at ours."""
BASELINE = "peer:fp32"
"""The row every ratio divides by: the port as published (batch 16, fp32)."""
ROWS = [
    "peer:fp32",
    "peer:bf16",
    "crnngan:fp32",
    "crnngan:bf16",
    "crnngan_gfirst:bf16",
    "crnngan_mle:bf16",
    "peer_b64:fp32",
    "crnngan_b64:bf16",
    "default:fp32",
    "default:bf16",
]


def lstm_flops(inputs: int, hidden: int, layers: int, directions: int = 1) -> int:
    """Multiply-add FLOPs (2 per MAC) of one LSTM forward step for one sample."""
    total = 0
    for layer in range(layers):
        width = inputs if layer == 0 else hidden * directions
        total += directions * 2 * 4 * hidden * (width + hidden)
    return total


def iteration_flops(g_fwd: float, d_fwd: float, g_passes: int = 1, d_steps: int = 1) -> float:
    """Model FLOPs per sample-step of one GAN iteration (see the module's docstring)."""
    return 3 * g_fwd * g_passes + d_steps * 2 * 3 * d_fwd + 2 * d_fwd


def ours_flops(cfg: GANTrainConfig) -> float:
    m = cfg.net
    heads = 2 * m.g_hidden * (2 * m.n_pitches + (m.max_voices + 1 if m.voices else 0))
    g_fwd = lstm_flops(m.frame_dim + m.noise_dim, m.g_hidden, m.g_layers) + heads
    d_fwd = lstm_flops(m.frame_dim, m.d_hidden, m.d_layers, directions=2) + 2 * 4 * m.d_hidden
    # the teacher-forced MLE term is a second generator pass (forward and backward) on the real windows
    return iteration_flops(g_fwd, d_fwd, 1 + (cfg.mle_weight > 0), cfg.d_steps)


def peer_flops(hidden: int = 256) -> float:
    features = PEER_FEATURES
    g_fwd = 2 * 2 * features * hidden + lstm_flops(hidden, hidden, 2) + 2 * hidden * features
    d_fwd = lstm_flops(features, hidden, 2, directions=2) + 2 * 2 * hidden
    return iteration_flops(g_fwd, d_fwd)


def matmul_peak(dtype: torch.dtype, size: int = 2048, repeats: int = 5) -> float:
    """Best GFLOP/s of a square matmul in ``dtype`` on the current thread count."""
    a, b = torch.randn(size, size, dtype=dtype), torch.randn(size, size, dtype=dtype)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        started = time.thread_time()  # CPU time, so other processes on a shared machine do not count
        a @ b
        best = min(best, time.thread_time() - started)
    return 2 * size**3 / best / 1e9


def _cpu_seconds(step, iters: int) -> float:
    """CPU seconds per call of ``step`` after one warm-up call."""
    step()
    started = time.process_time()
    for _ in range(iters):
        step()
    return (time.process_time() - started) / iters


def _ours(name: str, precision: str) -> tuple[dict, object]:
    cfg = CONFIGS[name]
    cfg = replace(cfg, run=replace(cfg.run, precision=precision))
    ctx = Context(device=torch.device("cpu"), bf16=precision == "bf16")
    steps = cfg.data.n_steps
    windows = np.zeros((1, steps, cfg.net.n_pitches), bool)
    trainer = GANTrainer(cfg, ctx, WindowSet(windows, windows, windows, windows))
    real = (torch.rand(cfg.batch_size, steps, cfg.net.frame_dim) < 0.08).float()
    info = {
        "engine": "ours",
        "batch": cfg.batch_size,
        "steps": steps,
        "mle_term": cfg.mle_weight > 0,
        "d_hidden": cfg.net.d_hidden,
        "flops_per_sample_step": ours_flops(cfg),
    }
    return info, lambda: trainer.gan_step(real)


def _peer(name: str, precision: str) -> tuple[dict, object]:
    batch, steps = PEERS[name], 256
    gan = CRNNGAN(port_like=True)
    real = torch.rand(batch, steps, PEER_FEATURES)
    bf16 = precision == "bf16"

    def step() -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            gan.iteration(real)

    info = {
        "engine": "C-RNN-GAN",
        "batch": batch,
        "steps": steps,
        "mle_term": False,
        "d_hidden": 256,
        "flops_per_sample_step": peer_flops(),
    }
    return info, step


def measure(row: str, iters: int) -> dict:
    """Benchmark one row (``config:precision``) in this process."""
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    name, precision = row.split(":")
    info, step = (_peer if name in PEERS else _ours)(name, precision)
    seconds = _cpu_seconds(step, iters)
    sample_steps = info["batch"] * info["steps"]
    return {
        "row": row,
        "config": name,
        "precision": precision,
        **info,
        "sample_steps_per_cpu_s": sample_steps / seconds,
        "gflops": info["flops_per_sample_step"] * sample_steps / seconds / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_worker(row: str, iters: int) -> dict:
    command = [sys.executable, __file__, "--worker", row, "--iters", str(iters)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _span(values: list[float], fmt: str) -> str:
    """Median, and the range when there is more than one value."""
    middle = format(statistics.median(values), fmt)
    if len(values) == 1:
        return middle
    return f"{middle} ({format(min(values), fmt)}–{format(max(values), fmt)})"


KEYS = ("row", "engine", "batch", "steps", "mle_term", "d_hidden", "precision")


def summarise(peaks: dict, rounds: list[list[dict]]) -> list[dict]:
    """One entry per row over the rounds, with its ratio to the baseline row of the same round."""
    summary = []
    for index, first in enumerate(rounds[0]):
        runs = [round_[index] for round_ in rounds]
        ratios = []
        for round_ in rounds:
            base = next((r for r in round_ if r["row"] == BASELINE), None)
            if base is not None:
                ratios.append(round_[index]["sample_steps_per_cpu_s"] / base["sample_steps_per_cpu_s"])
        gflops = [r["gflops"] for r in runs]
        summary.append(
            {
                **{k: first[k] for k in KEYS},
                "mflop_per_sample_step": first["flops_per_sample_step"] / 1e6,
                "sample_steps_per_cpu_s": [r["sample_steps_per_cpu_s"] for r in runs],
                "ratio_to_port": ratios,
                "gflops": gflops,
                "share_of_fp32_peak": [g / peaks["fp32"] for g in gflops],
                "share_of_bf16_peak": [g / peaks["bf16"] for g in gflops],
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            }
        )
    return summary


def table(summary: list[dict]) -> str:
    head = (
        "| row | engine | G / D | batch | steps | MLE term | precision | sample-steps per CPU-s "
        "| × port | MFLOP/sample-step | GFLOP/s | of fp32 peak | of bf16 peak | peak RSS MB |"
    )
    lines = [head, "|" + "---|" * 14]
    for s in summary:
        ratio = _span(s["ratio_to_port"], ".2f") if s["ratio_to_port"] else "–"
        lines.append(
            f"| {s['row']} | {s['engine']} | 2×256 / 2×{s['d_hidden']} bi | {s['batch']} | {s['steps']} "
            f"| {'on' if s['mle_term'] else 'off'} | {s['precision']} "
            f"| {_span(s['sample_steps_per_cpu_s'], ',.0f')} | {ratio} | {s['mflop_per_sample_step']:.1f} "
            f"| {_span(s['gflops'], '.0f')} | {_span([100 * v for v in s['share_of_fp32_peak']], '.0f')} % "
            f"| {_span([100 * v for v in s['share_of_bf16_peak']], '.0f')} % | {s['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help="config:precision, comma-separated")
    parser.add_argument("--iters", type=int, default=3, help="timed iterations per process, after a warm-up")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of every row")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", metavar="ROW", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(args.worker, args.iters)))
        return 0
    torch.set_num_threads(1)
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print(f"matmul peak, 1 thread: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s")
    rows = args.rows.split(",")
    rounds = []
    for index in range(args.repeats):
        rounds.append([_run_worker(row, args.iters) for row in rows])
        print(f"round {index + 1}/{args.repeats} done", file=sys.stderr)
    summary = summarise(peaks, rounds)
    print(table(summary))
    if args.json:
        results = {"matmul_peak_gflops": peaks, "rows": summary, "rounds": rounds}
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
