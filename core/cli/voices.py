"""``python -m core.generate`` with the four-voice model: write freely, harmonise a melody, continue a piece.

With ``--checkpoint checkpoints/satb`` (the four-voice model):

python -m core.generate --mode free --key "D minor" --phrases 4 --out out/
python -m core.generate --mode harmonise --melody tune.mid --candidates 8 --keep 2 --musicxml --out out/
python -m core.generate --mode harmonise --chorale bwv253 --ensemble strings --out out/
python -m core.generate --mode continue --primer piece.mid --keep-bars 2 --phrases 2 --out out/

Each piece is written as ``<mode>_<i>.mid`` (four named tracks, one channel each, the ``--ensemble``'s
instruments) and, with ``--musicxml``, as ``<mode>_<i>.musicxml`` beside it. With ``--candidates N`` the model
writes N pieces and the SVM keeps the ``--keep`` best.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from core.files import write_bytes_atomic
from core.music.musicxml import voices_to_musicxml
from core.music.voices import ENSEMBLES, Voices, VoicesError, key_from_name
from core.music.voices_midi import voices_to_midi
from core.ranking.pipeline import rank_samples
from core.ranking.reference import load_ranker
from core.sampling import LoadedModel
from core.sampling.satb import (
    VOICE_MODES,
    VoicePieces,
    chorales_by_name,
    melody_from_midi,
    voices_from_midi,
    write_in_mode,
)


def add_voice_flags(parser: argparse.ArgumentParser) -> None:
    """The four-voice model's flags."""
    group = parser.add_argument_group("four-voice model (checkpoints/satb)")
    flag = group.add_argument
    flag("--mode", choices=VOICE_MODES, default="free", help="free, harmonise or continue")
    flag("--key", help='key and mode, e.g. "D minor" or "Bb major" (free: a random key by default)')
    flag("--phrase-bars", type=int, choices=(2, 4), default=2, help="a fermata every 2 or 4 bars")
    flag("--phrases", type=int, help="number of phrases (sets the length: phrases x phrase-bars)")
    flag("--melody", type=Path, help="harmonise: a MIDI file whose melody (top line) is kept")
    flag("--primer", type=Path, help="continue: a four-part MIDI file whose first bars are kept")
    flag("--chorale", help="harmonise or continue a bundled test-split chorale, e.g. bwv253")
    flag("--keep-bars", type=int, default=2, help="continue: bars of the primer to keep")
    flag("--ensemble", choices=list(ENSEMBLES), default="choir", help="instruments of the voices")
    flag("--musicxml", action="store_true", help="also write MusicXML beside each MIDI file")


def given_piece(args: argparse.Namespace, path: Path | None, melody: bool) -> Voices:
    """The melody or primer a command names: a file, or a bundled test-split chorale."""
    if path is not None and args.chorale:
        raise ValueError("give a file or --chorale, not both")
    if path is not None:
        data = path.read_bytes()
        return melody_from_midi(path.name, data) if melody else voices_from_midi(path.name, data)
    if not args.chorale:
        raise ValueError(
            f"--mode {args.mode} needs {'--melody' if melody else '--primer'} FILE or --chorale NAME"
        )
    pieces = chorales_by_name("test")
    wanted = Path(args.chorale).stem
    if wanted not in pieces:
        raise ValueError(f"no test-split chorale {wanted!r}; some are: {', '.join(sorted(pieces)[:8])}")
    return pieces[wanted]


def write_pieces(args: argparse.Namespace, model: LoadedModel) -> VoicePieces:
    """The pieces the command asks for (``--candidates`` of them when given, else ``--n``)."""
    piece = None
    if args.mode != "free":
        harmonising = args.mode == "harmonise"
        piece = given_piece(args, args.melody if harmonising else args.primer, melody=harmonising)
    return write_in_mode(
        model, args.mode, bars=args.phrases * args.phrase_bars if args.phrases else args.bars, piece=piece,
        key=key_from_name(args.key) if args.key else None, phrase_bars=args.phrase_bars,
        keep_bars=args.keep_bars, n=args.candidates or args.n, seed=args.seed, temperature=args.temperature,
        tempo_bpm=args.tempo,
    )  # fmt: skip


def write_voices(args: argparse.Namespace, model: LoadedModel) -> int:
    """Write the pieces as MIDI (and MusicXML); with ``--candidates``, the SVM's ``--keep`` best."""
    try:
        pieces = write_pieces(args, model)
    except (VoicesError, OSError) as error:
        raise ValueError(str(error)) from None
    for remark in pieces.remarks:
        print(f"note: {remark}")
    order = list(range(len(pieces)))
    if args.candidates:
        ranked = rank_samples(pieces.samples, load_ranker(), keep=args.keep, spec=model.spec)
        order = [piece.candidate for piece in ranked]
        for place, piece in enumerate(ranked, start=1):
            print(f"rank {place}: candidate {piece.candidate}, SVM score {piece.score:.3f}")
    for place, index in enumerate(order):
        voices = pieces.voices[index]
        title = f"{args.mode.capitalize()} {place + 1} ({voices.key_name})"
        midi_bytes = voices_to_midi(voices, args.ensemble, title=title)
        midi = write_bytes_atomic(Path(args.out) / f"{args.mode}_{place:03d}.mid", midi_bytes)
        print(midi)
        if args.musicxml:
            xml = voices_to_musicxml(voices, title, ensemble=args.ensemble)
            print(write_bytes_atomic(midi.with_suffix(".musicxml"), xml))
    return 0
