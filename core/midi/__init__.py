"""Guarded MIDI loading: untrusted bytes in, a validated :class:`Score` (plain arrays) or a
:class:`MidiRejected` with a reason a person understands out.

A structural pre-check (:mod:`core.midi.precheck`) runs in this process; parsing runs in a sandboxed
worker process (:mod:`core.midi.worker`, protocol in :mod:`core.midi.protocol`) driven by
:class:`core.midi.parser.MidiParser`.
"""

from core.midi.parser import MidiParser, load_midi, read_source
from core.midi.score import NOTE_DTYPE, MidiLimits, MidiRejected, Score

__all__ = ["NOTE_DTYPE", "MidiLimits", "MidiParser", "MidiRejected", "Score", "load_midi", "read_source"]
