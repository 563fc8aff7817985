"""C-RNN-GAN's published architecture, as a speed peer for ``bench_train.py`` (not used by the studio).

Mogren, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training" (NIPS 2016
workshop), at the sizes of its public PyTorch port:

- Generator: per time step, a linear layer with ReLU on [noise; previous output], two stacked LSTM cells
  of 256 units (dropout between them), and a linear layer to the step's 4 continuous features (tone
  length, frequency, intensity, time). Written as a Python loop over steps, the previous output fed back
  with its gradient.
- Discriminator: dropout on the input, a 2-layer bidirectional LSTM of 256 units per direction (dropout
  between the layers), a per-step linear layer and sigmoid, the decisions averaged over time.
- Training: Adam for both, gradient norm clipped to 5; one iteration is one generator update through the
  discriminator, then one discriminator update on real and detached fake sequences (batch 16, 256 steps).

``port_like=True`` runs the iteration the way the port's code does: the discriminator is called separately
on real and fake sequences, and its weight gradients are computed (and then discarded) during the
generator's update. ``port_like=False`` gives the peer the two savings our engine uses: the discriminator
is frozen during the generator's update and sees real and fake in one batched call.
"""

from __future__ import annotations

import torch
from torch import nn

FEATURES = 4  # tone length, frequency, intensity, time
CLIP = 5.0
EPS = 1e-7


class Generator(nn.Module):
    """Two LSTM cells unrolled step by step; each step reads the noise and the previous output."""

    def __init__(self, features: int = FEATURES, hidden: int = 256, dropout: float = 0.6) -> None:
        super().__init__()
        self.hidden = hidden
        self.features = features
        self.input_layer = nn.Linear(2 * features, hidden)
        self.cell_1 = nn.LSTMCell(hidden, hidden)
        self.cell_2 = nn.LSTMCell(hidden, hidden)
        self.between = nn.Dropout(dropout)
        self.output_layer = nn.Linear(hidden, features)

    def forward(self, noise: torch.Tensor) -> torch.Tensor:
        """Sequences ``[B, T, features]`` from per-step noise of the same shape."""
        batch, steps, _ = noise.shape
        zeros = noise.new_zeros(batch, self.hidden)
        state_1, state_2 = (zeros, zeros), (zeros, zeros)
        previous = noise.new_zeros(batch, self.features)
        outputs = []
        for t in range(steps):
            x = torch.relu(self.input_layer(torch.cat([noise[:, t], previous], dim=-1)))
            state_1 = self.cell_1(x, state_1)
            state_2 = self.cell_2(self.between(state_1[0]), state_2)
            previous = self.output_layer(state_2[0])
            outputs.append(previous)
        return torch.stack(outputs, dim=1)


class Discriminator(nn.Module):
    """Bidirectional 2-layer LSTM; a sigmoid decision per step, averaged over the sequence."""

    def __init__(self, features: int = FEATURES, hidden: int = 256, dropout: float = 0.6) -> None:
        super().__init__()
        self.input_dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(features, hidden, 2, batch_first=True, bidirectional=True, dropout=dropout)
        self.decide = nn.Linear(2 * hidden, 1)

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """Probability that each sequence is real, ``[B]``."""
        states, _ = self.lstm(self.input_dropout(sequences))
        return torch.sigmoid(self.decide(states)).squeeze(-1).mean(dim=1)


def generator_loss(p_fake: torch.Tensor) -> torch.Tensor:
    return -torch.log(p_fake.clamp_min(EPS)).mean()


def discriminator_loss(p_real: torch.Tensor, p_fake: torch.Tensor, smoothing: float = 0.9) -> torch.Tensor:
    """Cross-entropy with one-sided label smoothing of the real targets."""
    log_real, log_not_real = torch.log(p_real.clamp_min(EPS)), torch.log((1 - p_real).clamp_min(EPS))
    real = smoothing * log_real + (1 - smoothing) * log_not_real
    fake = torch.log((1 - p_fake).clamp_min(EPS))
    return -(real + fake).mean()


class CRNNGAN:
    """Both networks and their optimisers; :meth:`iteration` is one G and one D update."""

    def __init__(self, hidden: int = 256, lr: float = 1e-3, port_like: bool = True) -> None:
        self.g = Generator(hidden=hidden)
        self.d = Discriminator(hidden=hidden)
        self.opt_g = torch.optim.Adam(self.g.parameters(), lr=lr)
        self.opt_d = torch.optim.Adam(self.d.parameters(), lr=lr)
        self.port_like = port_like

    def iteration(self, real: torch.Tensor) -> dict:
        """One generator update through the discriminator, then one discriminator update."""
        noise = torch.rand_like(real)
        fake = self.g(noise)
        if not self.port_like:
            self.d.requires_grad_(False)
        loss_g = generator_loss(self.d(fake))
        self.d.requires_grad_(True)
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        nn.utils.clip_grad_norm_(self.g.parameters(), CLIP)
        self.opt_g.step()

        fake = fake.detach()
        if self.port_like:
            p_real, p_fake = self.d(real), self.d(fake)
        else:
            p_real, p_fake = self.d(torch.cat([real, fake])).split(real.shape[0])
        loss_d = discriminator_loss(p_real, p_fake)
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        nn.utils.clip_grad_norm_(self.d.parameters(), CLIP)
        self.opt_d.step()
        return {"loss_g": float(loss_g.detach()), "loss_d": float(loss_d.detach())}
