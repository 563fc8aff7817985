"""Train a discriminator against a frozen generator and save it beside the checkpoint as ``discriminator.pt``.

    python scripts/train_discriminator.py --checkpoint checkpoints/default --steps 400

A checkpoint folder that ships only its generator (``checkpoints/default``) has no discriminator for the
GAN Lab page and the critic. This trains one the way the GAN's adversarial phase trains its discriminator
(``GANTrainer.discriminator_step``: the checkpoint's objective, learning rate, instance noise and label
smoothing), on fresh training windows and fresh generated pieces every step, while the generator stays
as it is. Every ``--report-every`` steps it prints, on the held-out test split against as many fresh
samples: mean D(x), mean D(G(z)), the accuracy at 0.5 and the ROC AUC.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.data.reference import bundled_windows
from core.models.checkpoint import read_checkpoint, save_checkpoint
from core.models.critic import critic_probabilities
from core.sampling import load_model
from core.training.config import config_from_dict
from core.training.context import Context
from core.training.data import window_set
from core.training.lstm_gan import GANTrainConfig, GANTrainer


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """The chance that a random positive scores above a random negative (ties count half)."""
    above = (positive[:, None] > negative[None, :]).mean()
    ties = (positive[:, None] == negative[None, :]).mean()
    return float(above + ties / 2)


def report(trainer: GANTrainer, model, test: tuple[np.ndarray, np.ndarray], seed: int) -> dict:
    samples = model.sample(len(test[0]), 4, seed)
    critic = trainer.d_raw.eval()
    real = critic_probabilities(critic, *test)
    fake = critic_probabilities(critic, samples.active, samples.onset)
    critic.train()
    accuracy = (np.mean(real > 0.5) + np.mean(fake <= 0.5)) / 2
    return {
        "d_real": float(real.mean()),
        "d_fake": float(fake.mean()),
        "accuracy": float(accuracy),
        "auc": roc_auc(real, fake),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", default="checkpoints/default", help="a checkpoint folder")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lr-d", type=float, default=None, help="default: the checkpoint's lr_d")
    parser.add_argument("--report-every", type=int, default=100)
    parser.add_argument("--dry-run", action="store_true", help="train and report, but write nothing")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    folder = Path(args.checkpoint)
    state, config, _ = read_checkpoint(folder)
    changes = {"batch_size": args.batch, "seed": args.seed}
    if args.lr_d is not None:
        changes["lr_d"] = args.lr_d
    cfg = config_from_dict(GANTrainConfig, {**config, **changes})
    model = load_model(folder)
    trainer = GANTrainer(cfg, Context(torch.device("cpu")), window_set(cfg.data, cfg.spec))
    trainer.g_raw.load_state_dict(state)
    trainer.g_raw.eval()
    test = bundled_windows("test", bars=cfg.data.bars)
    started = time.monotonic()
    for step in range(1, args.steps + 1):
        real = trainer.batch(torch.Generator().manual_seed(args.seed * 1_000_003 + step))
        with torch.no_grad():
            fake = model.sample(args.batch, cfg.data.bars, seed=args.seed * 1_000_003 + step)
        frames = torch.from_numpy(np.concatenate([fake.active, fake.onset], -1).astype(np.float32))
        record = trainer.discriminator_step(real, frames)
        if step % args.report_every == 0 or step == args.steps:
            held_out = report(trainer, model, test, seed=10**6 + step)
            seconds = time.monotonic() - started
            print(f"step {step}: loss_D {record['loss_d']:.3f}, held out {held_out} ({seconds:.0f} s)")
    if not args.dry_run:
        save_checkpoint(trainer.d_raw.state_dict(), folder / "discriminator.pt")
        print(f"wrote {folder.name}/discriminator.pt")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
