"""Bidirectional LSTM discriminator over piano-roll frames."""

from __future__ import annotations

import torch
from torch import nn

from core.models.config import ModelConfig


class LSTMDiscriminator(nn.Module):
    """biLSTM → mean- and max-pooled states (the features) → one logit per sequence."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.lstm = nn.LSTM(
            cfg.frame_dim,
            cfg.d_hidden,
            cfg.d_layers,
            batch_first=True,
            bidirectional=True,
            dropout=cfg.d_dropout if cfg.d_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(cfg.d_dropout)
        self.out = nn.Linear(4 * cfg.d_hidden, 1)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits [B], features [B, 4 * d_hidden]) for frames [B, T, 2P]."""
        hidden, _ = self.lstm(frames)
        features = torch.cat([hidden.mean(dim=1), hidden.amax(dim=1)], dim=-1)
        return self.out(self.drop(features)).squeeze(-1), features
