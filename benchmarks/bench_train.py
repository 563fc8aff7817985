"""Training throughput of the GAN engine on this machine.

For each model size and precision, in a fresh process (so peak RSS is its own): GAN iterations per
second (one discriminator and one generator update on one batch), sample-steps per CPU-second,
teacher-forced MLE samples per second, peak RSS, and the achieved GFLOP/s of the GAN iteration with
FLOPs counted analytically from the layer shapes. The same run measures the machine's matmul peak
(large square GEMMs) so the achieved rate can be read as a fraction of it.

    python benchmarks/bench_train.py                 # every config in CONFIGS, fp32 and bf16
    python benchmarks/bench_train.py --json out.json --iters 10

Reference: the public PyTorch port of C-RNN-GAN (G 2×256 LSTM, D 2×256 biLSTM, 256-step sequences,
batch 16) does about 2,300 sample-steps per CPU-second on one thread of this kind of CPU.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.data.config import DataConfig  # noqa: E402
from core.models.lstm_gan import ModelConfig  # noqa: E402
from core.training.context import Context  # noqa: E402
from core.training.data import WindowSet  # noqa: E402
from core.training.lstm_gan import GANTrainConfig, GANTrainer  # noqa: E402

CRNNGAN_REFERENCE = 2300.0  # sample-steps per CPU-second of the public C-RNN-GAN port

CONFIGS = {
    "default": GANTrainConfig(),
    "crnngan": GANTrainConfig(
        net=ModelConfig(g_hidden=256, g_layers=2, d_hidden=256, d_layers=2),
        data=DataConfig(bars=16),
        batch_size=16,
    ),
}
# the port's workload: one D and one G update, no teacher-forced MLE term in G's loss
CONFIGS["crnngan_no_mle"] = replace(CONFIGS["crnngan"], mle_weight=0.0)


def lstm_flops(inputs: int, hidden: int, layers: int, directions: int = 1) -> int:
    """Multiply-add FLOPs (2 per MAC) of one LSTM forward step for one sample."""
    total = 0
    for layer in range(layers):
        width = inputs if layer == 0 else hidden * directions
        total += directions * 2 * 4 * hidden * (width + hidden)
    return total


def gan_iteration_flops(cfg: GANTrainConfig) -> float:
    """FLOPs per sample-step of :meth:`core.training.lstm_gan.GANTrainer.gan_step`.

    Backward counts 2× forward; a pass that needs only input gradients counts 1×.
    """
    m = cfg.net
    heads = 2 * m.g_hidden * (2 * m.n_pitches + (m.max_voices + 1 if m.voices else 0))
    g_fwd = lstm_flops(m.frame_dim + m.noise_dim, m.g_hidden, m.g_layers) + heads
    d_fwd = lstm_flops(m.frame_dim, m.d_hidden, m.d_layers, directions=2)
    g_passes = 1 + (cfg.mle_weight > 0)  # free run, plus the teacher-forced MLE term
    generator = 3 * g_fwd * g_passes
    discriminator = cfg.d_steps * 3 * d_fwd * 2  # real + fake, forward and full backward
    through_d = d_fwd * (2 if cfg.objective == "feature_matching" else 1) + d_fwd  # forward + input grads
    return float(generator + discriminator + through_d)


def mle_flops(cfg: GANTrainConfig) -> float:
    m = cfg.net
    heads = 2 * m.g_hidden * (2 * m.n_pitches + (m.max_voices + 1 if m.voices else 0))
    return 3.0 * (lstm_flops(m.frame_dim + m.noise_dim, m.g_hidden, m.g_layers) + heads)


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


def _timed(step, real: torch.Tensor, iters: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) per call of ``step`` after one warm-up call."""
    step(real)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(iters):
        step(real)
    return (time.perf_counter() - wall) / iters, (time.process_time() - cpu) / iters


def measure(name: str, precision: str, iters: int) -> dict:
    """Benchmark one config in this process."""
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    torch.manual_seed(0)
    cfg = CONFIGS[name]
    cfg = replace(cfg, run=replace(cfg.run, precision=precision))
    ctx = Context(device=torch.device("cpu"), bf16=precision == "bf16")
    steps = cfg.data.n_steps
    windows = np.zeros((1, steps, cfg.net.n_pitches), bool)
    trainer = GANTrainer(cfg, ctx, WindowSet(windows, windows, windows, windows))
    real = (torch.rand(cfg.batch_size, steps, cfg.net.frame_dim) < 0.08).float()
    gan_wall, gan_cpu = _timed(trainer.gan_step, real, iters)
    mle_wall, mle_cpu = _timed(trainer.mle_step, real, iters)
    sample_steps = cfg.batch_size * steps
    flops = gan_iteration_flops(cfg) * sample_steps
    return {
        "config": name,
        "precision": precision,
        "batch": cfg.batch_size,
        "steps": steps,
        "gan_samples_per_s": cfg.batch_size / gan_wall,
        "gan_sample_steps_per_cpu_s": sample_steps / gan_cpu,
        "vs_crnngan_reference": sample_steps / gan_cpu / CRNNGAN_REFERENCE,
        "gan_mflop_per_sample_step": gan_iteration_flops(cfg) / 1e6,
        "gan_gflops": flops / gan_cpu / 1e9,
        "mle_samples_per_s": cfg.batch_size / mle_wall,
        "mle_gflops": mle_flops(cfg) * sample_steps / mle_cpu / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_worker(name: str, precision: str, iters: int) -> dict:
    command = [sys.executable, __file__, "--worker", name, precision, "--iters", str(iters)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(peaks: dict, rows: list[dict]) -> str:
    head = (
        "| config | precision | GAN samples/s | sample-steps per CPU-s | × C-RNN-GAN port "
        "| MFLOP/sample-step | GFLOP/s | % of fp32 peak | % of bf16 peak | MLE samples/s | peak RSS MB |"
    )
    lines = [head, "|" + "---|" * 11]
    for r in rows:
        lines.append(
            f"| {r['config']} | {r['precision']} | {r['gan_samples_per_s']:.1f} "
            f"| {r['gan_sample_steps_per_cpu_s']:,.0f} | {r['vs_crnngan_reference']:.2f} "
            f"| {r['gan_mflop_per_sample_step']:.1f} | {r['gan_gflops']:.1f} "
            f"| {100 * r['gan_gflops'] / peaks['fp32']:.0f}% | {100 * r['gan_gflops'] / peaks['bf16']:.0f}% "
            f"| {r['mle_samples_per_s']:.0f} | {r['peak_rss_mb']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", nargs=2, metavar=("CONFIG", "PRECISION"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(measure(*args.worker, args.iters)))
        return 0
    torch.set_num_threads(1)
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    print(f"matmul peak, 1 thread: fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s")
    rows = [
        _run_worker(name, precision, args.iters)
        for name in args.configs.split(",")
        for precision in args.precisions.split(",")
    ]
    print(table(peaks, rows))
    if args.json:
        args.json.write_text(json.dumps({"matmul_peak_gflops": peaks, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
