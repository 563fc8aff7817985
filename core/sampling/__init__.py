"""Sampling: a checkpoint loaded once (:func:`load_model`) writes pieces as arrays
(:class:`~core.models.base.Samples`), turned into piano-rolls and MIDI only for people."""

from core.sampling.export import export_checkpoint, write_midis
from core.sampling.model import LoadedModel, load_model, stack_rolls, with_tempo

__all__ = ["LoadedModel", "export_checkpoint", "load_model", "stack_rolls", "with_tempo", "write_midis"]
