"""The LSTM pieces both LSTM GANs (piano-roll and four-voice) are built from.

The generators' latent-to-state map and their single time step with the LSTM's own weights (for
sampling step by step), and the discriminator both share: a bidirectional LSTM whose per-step states are
mean- and max-pooled into the features, and one logit per sequence from them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def latent_state(
    init: nn.Linear, z: torch.Tensor, layers: int, hidden: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """An LSTM's (h0, c0) ``[layers, B, hidden]`` from latents ``[B, latent_dim]`` through ``init``."""
    state = torch.tanh(init(z)).view(z.shape[0], 2, layers, hidden)
    return state[:, 0].transpose(0, 1).contiguous(), state[:, 1].transpose(0, 1).contiguous()


def layer_weights(lstm: nn.LSTM, layer: int) -> list[torch.Tensor]:
    """One layer's input, hidden and bias weights, in the order ``torch.lstm_cell`` takes them."""
    return [getattr(lstm, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def lstm_step(
    lstm: nn.LSTM, x: torch.Tensor, hs: list[torch.Tensor], cs: list[torch.Tensor], training: bool
) -> torch.Tensor:
    """One time step of ``lstm`` with its own weights (``torch.lstm_cell`` per layer is several times
    faster than ``nn.LSTM`` on length-1 sequences); ``hs``/``cs`` are updated in place. Returns the top
    layer's output (dropout between layers when ``training``)."""
    for layer in range(lstm.num_layers):
        if layer > 0:
            x = F.dropout(x, lstm.dropout, training)
        hs[layer], cs[layer] = torch.lstm_cell(x, (hs[layer], cs[layer]), *layer_weights(lstm, layer))
        x = hs[layer]
    return x


class PooledLSTMDiscriminator(nn.Module):
    """Optional tanh input layer ``embed`` → biLSTM → mean- and max-pooled states (the features) → one
    logit per sequence. ``embed`` is registered first, so the parameters keep that order."""

    def __init__(
        self, width: int, hidden: int, layers: int, dropout: float, embed: nn.Linear | None = None
    ) -> None:
        super().__init__()
        self.embed = embed
        self.lstm = nn.LSTM(
            width,
            hidden,
            layers,
            batch_first=True,
            bidirectional=True,
            dropout=dropout if layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(4 * hidden, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits ``[B]``, pooled features ``[B, 4 * hidden]``) of inputs ``[B, T, F]``."""
        if self.embed is not None:
            x = torch.tanh(self.embed(x))
        hidden, _ = self.lstm(x)
        features = torch.cat([hidden.mean(dim=1), hidden.amax(dim=1)], dim=-1)
        return self.out(self.drop(features)).squeeze(-1), features
