"""The four-voice model's three modes (free, harmonise, continue), melodies from files, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pytest
import torch

from core.cli import generate as generate_cli
from core.models.satb import SATBGenerator, SATBNetConfig
from core.music.voices import MODES, PITCH_RANGES, REST, Voices, VoicesError, key_from_name, key_name
from core.sampling import load_model
from core.sampling.satb import (
    chorale_pieces,
    continue_piece,
    fit_soprano,
    free_pieces,
    harmonise,
    melody_from_midi,
    melody_phrase_ends,
    write_in_mode,
    writes_voices,
)
from core.training.config import config_to_dict
from core.training.satb import SATBTrainConfig
from tests.support.midi_files import make_midi
from tests.support.part_files import make_parts

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = SATBNetConfig(
    latent_dim=4, pitch_embed=8, articulation_embed=4, g_hidden=16, head_hidden=16, d_hidden=8
)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained tiny four-voice model in the shipped folder format."""
    folder = tmp_path_factory.mktemp("satb") / "ckpt"
    folder.mkdir()
    torch.manual_seed(0)
    torch.save(SATBGenerator(TINY).state_dict(), folder / "model.pt")
    (folder / "config.json").write_text(json.dumps(config_to_dict(SATBTrainConfig(net=TINY))))
    return folder


def melody(bars: int = 4, fermata_every: int | None = None) -> Voices:
    """A soprano of quarter notes walking up and down a C major scale, the other voices silent."""
    scale = [72, 74, 76, 77, 79, 77, 76, 74]
    steps = 16 * bars
    pitch = np.full((steps, 4), REST)
    pitch[:, 0] = np.repeat([scale[i % len(scale)] for i in range(steps // 4)], 4)
    onset = np.zeros_like(pitch, bool)
    onset[::4, 0] = True
    marks = np.zeros(steps, bool)
    if fermata_every:
        marks[8 + 16 * (fermata_every - 1) :: 16 * fermata_every] = True
    return Voices(pitch, onset, marks)


def test_free_pieces_are_in_the_asked_key_with_phrases(checkpoint: Path) -> None:
    model = load_model(checkpoint)
    assert writes_voices(model)
    pieces = free_pieces(model, n=3, bars=4, phrase_bars=2, key=(9, "minor"), seed=1)
    assert len(pieces) == 3 and pieces.samples.active.shape == (3, 64, 48)
    for voices in pieces.voices:
        assert voices.key_name == "A minor" and np.flatnonzero(voices.phrase_end).tolist() == [24, 56]
        assert voices.range_problem() is None
    again = free_pieces(model, n=3, bars=4, phrase_bars=2, key=(9, "minor"), seed=1)
    assert all(np.array_equal(a.pitch, b.pitch) for a, b in zip(pieces.voices, again.voices, strict=True))


def test_harmonisations_keep_the_soprano_exactly_and_differ_below_it(checkpoint: Path) -> None:
    model = load_model(checkpoint)
    tune = melody()
    pieces = harmonise(model, tune, n=4, seed=2)
    for voices in pieces.voices:
        assert np.array_equal(voices.pitch[:, 0], tune.pitch[:, 0])
        assert np.array_equal(voices.onset[:, 0], tune.onset[:, 0])
    lower = [voices.pitch[:, 1:] for voices in pieces.voices]
    assert not all(np.array_equal(lower[0], other) for other in lower[1:])
    assert np.array_equal(pieces.samples.voices[:, :, 0], np.repeat(tune.pitch[None, :, 0], 4, axis=0))


def test_a_melody_without_fermatas_gets_phrases_and_ends_on_its_last_note() -> None:
    marks = melody_phrase_ends(melody(bars=5), phrase_bars=2)
    assert np.flatnonzero(marks).tolist() == [24, 56, 76]  # the last note starts at step 76
    given = melody(bars=4, fermata_every=1)
    assert np.array_equal(melody_phrase_ends(given, 2), given.phrase_end)


def test_a_melody_outside_the_soprano_range_moves_by_octaves_or_is_refused() -> None:
    low = melody().transpose(-24, ranges=None)
    moved, remarks = fit_soprano(low)
    assert moved.pitch[:, 0].min() >= PITCH_RANGES[0][0] and "+12 semitones" in remarks[0]
    wide = melody()
    pitch = wide.pitch.copy()
    pitch[0, 0], pitch[4, 0] = 40, 90
    with pytest.raises(VoicesError, match="spans"):
        fit_soprano(Voices(pitch, wide.onset, wide.phrase_end))


def test_a_continuation_keeps_the_primer_bars(checkpoint: Path) -> None:
    model = load_model(checkpoint)
    primer = chorale_pieces("test")[0].voices
    pieces = continue_piece(model, primer, keep_bars=2, bars=4, n=2, seed=3)
    keep = primer.bar_offset + 32
    for voices in pieces.voices:
        assert voices.n_steps == primer.bar_offset + 64
        assert np.array_equal(voices.pitch[:keep], primer.pitch[:keep])
        assert voices.key_name == primer.key_name
    with pytest.raises(ValueError):
        continue_piece(model, primer, keep_bars=4, bars=4)


def test_melodies_come_from_a_one_line_file_or_the_top_of_any_file() -> None:
    line = [(60 + step, 0.5 * i, 0.5 * i + 0.5) for i, step in enumerate((12, 14, 16, 17))]
    tune = melody_from_midi("tune.mid", make_midi(line))
    starts = np.flatnonzero(tune.onset[:, 0])
    assert tune.pitch[starts, 0].tolist() == [72, 74, 76, 77] and starts.tolist() == [0, 4, 8, 12]
    chords = [(p, 0.0, 1.0) for p in (60, 64, 79)] + [(p, 1.0, 2.0) for p in (62, 65, 77)]
    top = melody_from_midi("chords.mid", make_midi(chords))
    assert top.pitch[np.flatnonzero(top.onset[:, 0]), 0].tolist() == [79, 77]
    parts = {
        "Soprano": [(76, 0.0, 2.0)],
        "Alto": [(67, 0.0, 2.0)],
        "Tenor": [(60, 0.0, 2.0)],
        "Bass": [(48, 0, 2)],
    }
    choir = melody_from_midi("choir.mid", make_parts(parts, markers=[("fermata", 0.0)]))
    assert choir.pitch[0].tolist() == [76, 67, 60, 48] and choir.phrase_end[0]


def test_the_command_line_writes_four_named_tracks_and_musicxml(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "free"
    flags = ["--key", "G major", "--phrases", "2", "--n", "2", "--ensemble", "strings", "--musicxml"]
    code = generate_cli.main(["--checkpoint", str(checkpoint), *flags, "--out", str(out)])
    assert code == 0
    midi = mido.MidiFile(out / "free_000.mid")
    names = [track.name for track in midi.tracks[1:]]
    assert names == ["Soprano", "Alto", "Tenor", "Bass"]
    assert (out / "free_001.musicxml").read_bytes().startswith(b"<?xml")
    tune = tmp_path / "tune.mid"
    tune.write_bytes(make_midi([(72, 0.0, 1.0), (74, 1.0, 2.0), (76, 2.0, 4.0)]))
    code = generate_cli.main(["--checkpoint", str(checkpoint), "--mode", "harmonise", "--melody", str(tune),
                              "--n", "1", "--out", str(tmp_path / "h")])  # fmt: skip
    assert code == 0 and (tmp_path / "h" / "harmonise_000.mid").exists()
    code = generate_cli.main(["--checkpoint", str(checkpoint), "--mode", "continue", "--out", str(tmp_path)])
    assert code == 2  # no primer given: an error in words, no traceback


def test_only_the_four_voice_model_harmonises(small_checkpoint_folder: Path, tmp_path: Path) -> None:
    code = generate_cli.main(["--checkpoint", str(small_checkpoint_folder), "--mode", "harmonise",
                              "--chorale", "bwv257", "--out", str(tmp_path)])  # fmt: skip
    assert code == 2


def test_one_entry_writes_each_mode_and_a_key_relabels_a_given_piece(checkpoint: Path) -> None:
    model = load_model(checkpoint)
    free = write_in_mode(model, "free", bars=4, key=(2, "minor"), n=2, seed=1)
    assert all(voices.key_name == "D minor" for voices in free.voices)
    tune = melody()
    sung = write_in_mode(model, "harmonise", bars=4, piece=tune, key=(7, "major"), n=2, seed=1)
    assert all(
        v.key_name == "G major" and np.array_equal(v.pitch[:, 0], tune.pitch[:, 0]) for v in sung.voices
    )
    with pytest.raises(ValueError, match="needs a melody"):
        write_in_mode(model, "harmonise", bars=4)
    with pytest.raises(ValueError, match="mode must be one of"):
        write_in_mode(model, "sing", bars=4)


def test_keys_in_words_read_back() -> None:
    for tonic in range(12):
        for mode in MODES:
            assert key_from_name(key_name(tonic, mode)) == (tonic, mode)
    assert key_from_name("F#") == (6, "major")
    with pytest.raises(VoicesError):
        key_from_name("D dorian")
