"""Run folders as a training process leaves them, built without training (for page and service tests)."""

from __future__ import annotations

import json
import time
from pathlib import Path


def fake_run(
    runs_dir: Path,
    run_id: str,
    state: str = "finished",
    step: int = 40,
    total_steps: int = 40,
    phase: str = "gan",
    owner: str | None = None,
    records: list[dict] | None = None,
    config: dict | None = None,
    message: str = "",
) -> Path:
    """A run folder with its status, config, metrics, job file and both checkpoints.

    The checkpoints are placeholder bytes: enough for choosing them, not for loading them.
    """
    folder = runs_dir / run_id
    (folder / "checkpoints").mkdir(parents=True)
    status = {"state": state, "step": step, "total_steps": total_steps, "phase": phase, "message": message}
    (folder / "status.json").write_text(json.dumps({**status, "updated_at": time.time()}))
    (folder / "config.json").write_text(
        json.dumps(config or {"model": "lstm_gan", "mle_steps": 30, "gan_steps": 10})
    )
    (folder / "metrics.jsonl").write_text("".join(json.dumps(record) + "\n" for record in records or []))
    (folder / "job.json").write_text(json.dumps({"owner": owner} if owner else {}))
    for name in ("best.pt", "last.pt"):
        (folder / "checkpoints" / name).write_bytes(b"placeholder weights")
    return folder


def run_checkpoint_from_folder(folder: Path, runs_dir: Path, run_id: str) -> Path:
    """A finished run whose ``best.pt`` holds the network of a checkpoint folder (loadable, unlike
    :func:`fake_run`'s placeholders)."""
    import torch  # slow to import: only this builder needs it

    run = fake_run(runs_dir, run_id)
    state = torch.load(folder / "model.pt", weights_only=True)
    config = json.loads((folder / "config.json").read_text())
    best = run / "checkpoints" / "best.pt"
    torch.save({"model": state, "config": config}, best)
    return best


def four_voice_run(runs_dir: Path, run_id: str) -> Path:
    """A finished run of an untrained, tiny four-voice (SATB) generator; returns its ``best.pt``."""
    import torch  # slow to import: only these builders need it

    from core.models.satb import SATBGenerator, SATBNetConfig
    from core.training.config import config_to_dict
    from core.training.satb import SATBTrainConfig

    sizes = {"pitch_embed": 8, "articulation_embed": 4, "g_hidden": 16, "head_hidden": 16, "d_hidden": 8}
    net = SATBNetConfig(latent_dim=4, **sizes)
    torch.manual_seed(0)
    run = fake_run(runs_dir, run_id)
    best = run / "checkpoints" / "best.pt"
    config = config_to_dict(SATBTrainConfig(net=net))
    torch.save({"model": SATBGenerator(net).state_dict(), "config": config}, best)
    return best
