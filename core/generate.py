"""Load a trained generator and sample piano-rolls from it; CLI writes MIDI files.

python -m core.generate --checkpoint checkpoints/default --n 8 --bars 4 --seed 1 --out samples/
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from core.baselines import Baseline, load_baseline, model_kind, sample_baseline_arrays
from core.models import LSTMGenerator
from core.models.generator import sample_latents
from core.music.pianoroll import PianoRoll, RollSpec, roll_from_arrays, roll_to_midi_bytes
from core.runs import CheckpointError, load_checkpoint, save_checkpoint_atomic, write_json_atomic
from core.train import TrainConfig, config_from_dict

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent.parent / "checkpoints" / "default"


@dataclass
class Generator:
    """A loaded generator: the network (eval mode), its training config and the roll grid."""

    model: LSTMGenerator
    config: TrainConfig
    spec: RollSpec

    @property
    def steps_per_bar(self) -> int:
        return self.config.beats_per_bar * self.spec.steps_per_beat


def _read_state(path: Path) -> tuple[dict, dict]:
    """(state_dict, config dict) from a folder, a bare state_dict file or a run checkpoint."""
    if path.is_dir():
        return load_checkpoint(path / "model.pt"), json.loads((path / "config.json").read_text())
    state = load_checkpoint(path)
    if "model" in state and "config" in state:
        return state["model"], state["config"]
    config_path = path.with_name("config.json")
    if not config_path.exists():
        raise FileNotFoundError(f"{path.name} is a bare state_dict and has no config.json beside it")
    return state, json.loads(config_path.read_text())


def load_generator(path: str | Path = DEFAULT_CHECKPOINT, device: str = "cpu") -> Generator | Baseline:
    """Load ``checkpoints/<name>/`` (model.pt + config.json) or a run's ``last.pt``/``best.pt``.

    The config's ``model`` field picks the family: the GAN (``lstm_gan``, the default) gives a
    :class:`Generator`; ``lstm_lm`` and ``cnn_gan`` give a :class:`core.baselines.Baseline`, which the
    sampling functions below take as well.
    """
    path = Path(path)
    state, config = _read_state(path)
    if model_kind(config) != "lstm_gan":
        return load_baseline(path, device)
    cfg = config_from_dict(config)
    model = LSTMGenerator(cfg.model)
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as error:
        raise CheckpointError(
            f"{path.name} does not fit the generator its config describes "
            f"({str(error).splitlines()[0][:160]})"
        ) from None
    model.to(device).eval()
    spec = RollSpec(cfg.steps_per_beat, cfg.lowest_pitch, cfg.model.n_pitches)
    return Generator(model=model, config=cfg, spec=spec)


@torch.no_grad()
def sample_arrays(
    generator: Generator | Baseline,
    n: int,
    bars: int = 4,
    seed: int = 0,
    temperature: float = 1.0,
    threshold=None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Bool (active, onset) tensors [n, T, P]; the same seed gives the same pieces."""
    if isinstance(generator, Baseline):
        active, onset = sample_baseline_arrays(generator, n, bars, seed, temperature, threshold)
        return torch.from_numpy(active), torch.from_numpy(onset)
    if n < 1 or bars < 1 or temperature <= 0:
        raise ValueError("n and bars must be at least 1 and temperature positive")
    model = generator.model
    device = next(model.parameters()).device
    rng = torch.Generator(device=device).manual_seed(int(seed))
    steps = bars * generator.steps_per_bar
    z, noise = sample_latents(n, steps, model.cfg, generator=rng, device=str(device))
    frames = model.free_run(z, noise, temperature=temperature, generator=rng, threshold=threshold) > 0.5
    pitches = model.cfg.n_pitches
    return frames[..., :pitches].cpu(), frames[..., pitches:].cpu()


def sample_rolls(
    generator: Generator | Baseline,
    n: int,
    bars: int = 4,
    seed: int = 0,
    temperature: float = 1.0,
    tempo_bpm: float = 100.0,
    program: int = 0,
    threshold: float | None = None,
) -> list[PianoRoll]:
    """``n`` pieces of ``bars`` bars at ``tempo_bpm``.

    ``temperature`` scales every logit before sampling; ``threshold`` (0–1) replaces sampling by
    "sound when the probability reaches it". ``program`` is accepted for symmetry with the MIDI
    writer: a PianoRoll carries no instrument, so pass it on to :func:`write_midis`.
    """
    del program
    active, onset = sample_arrays(generator, n, bars, seed, temperature, threshold)
    return [
        roll_from_arrays(
            a.numpy(),
            o.numpy(),
            spec=generator.spec,
            tempo_bpm=tempo_bpm,
            beats_per_bar=generator.config.beats_per_bar,
        )
        for a, o in zip(active, onset, strict=True)
    ]


def write_midis(
    rolls: list[PianoRoll], out_dir: Path, program: int = 0, prefix: str = "sample"
) -> list[Path]:
    """Write each roll as ``<prefix>_<i>.mid`` in ``out_dir``; returns the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, roll in enumerate(rolls):
        path = out_dir / f"{prefix}_{index:03d}.mid"
        path.write_bytes(roll_to_midi_bytes(roll, program=program))
        paths.append(path)
    return paths


def export_generator(checkpoint: str | Path, out_dir: str | Path) -> Path:
    """Save a checkpoint's generator as ``out_dir/model.pt`` (state_dict only) + ``config.json``."""
    state, config = _read_state(Path(checkpoint))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_checkpoint_atomic(dict(state), out / "model.pt")
    write_json_atomic(out / "config.json", config)
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m core.generate", description="Sample MIDI pieces.")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=DEFAULT_CHECKPOINT,
        help="checkpoint folder (model.pt + config.json) or a run's .pt file",
    )
    parser.add_argument("--n", type=int, default=8, help="number of pieces")
    parser.add_argument("--bars", type=int, default=4, help="bars per piece")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--temperature", type=float, default=1.0, help="> 1 wilder, < 1 safer")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="play a note when its probability reaches this (0-1) instead of sampling",
    )
    parser.add_argument("--tempo", type=float, default=100.0, help="beats per minute")
    parser.add_argument("--program", type=int, default=0, help="General MIDI program 0-127")
    parser.add_argument("--out", type=Path, help="output folder for the MIDI files")
    parser.add_argument(
        "--candidates",
        type=int,
        default=None,
        help="the seed's pipeline: generate this many pieces, rank them with the SVM, keep --keep",
    )
    parser.add_argument("--keep", type=int, default=4, help="with --candidates: ranked pieces to write")
    parser.add_argument(
        "--export",
        type=Path,
        metavar="DIR",
        help="instead of sampling, save the generator as DIR/model.pt + DIR/config.json",
    )
    return parser


def rank_and_write(args: argparse.Namespace) -> int:
    """Generate ``--candidates`` pieces, rank them with the SVM, write the best ``--keep`` + scores.csv."""
    from core.pipeline import describe_ranked, generate_and_rank, write_ranked

    try:
        pieces = generate_and_rank(
            args.checkpoint, args.candidates, args.keep, args.bars, args.seed, args.temperature
        )
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    pieces = [replace(p, roll=replace(p.roll, tempo_bpm=args.tempo)) for p in pieces]
    write_ranked(pieces, args.out, program=args.program)
    print("\n".join(describe_ranked(pieces)))
    print(f"wrote {len(pieces)} MIDI files and scores.csv to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.export:
        print(export_generator(args.checkpoint, args.export))
        return 0
    if args.out is None:
        parser.error("--out is required when sampling")
    if not 0 <= args.program <= 127 or (args.threshold is not None and not 0 < args.threshold < 1):
        print("error: --program must be 0-127 and --threshold between 0 and 1", file=sys.stderr)
        return 2
    if args.candidates is not None:
        return rank_and_write(args)
    try:
        generator = load_generator(args.checkpoint)
        rolls = sample_rolls(
            generator, args.n, args.bars, args.seed, args.temperature, args.tempo, threshold=args.threshold
        )
    except (FileNotFoundError, ValueError, KeyError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in write_midis(rolls, args.out, program=args.program):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
