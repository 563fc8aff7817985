"""The LSTM GAN generator's free run, fast: a lean no-grad loop that records what it drew, and a replay.

Training needs the free-running frames with straight-through gradients. Building an autograd graph step by
step (two LSTM cells, three heads and the sampling ops, 64–256 times) meant thousands of small operations
and as many backward nodes per update. Instead :func:`free_running` runs the loop without gradients, with
one matmul per layer on ``[input, h]``, all noise and dropout drawn before the loop and a partial top-k for
the count's cut, and returns :class:`Draws`; the generator's ``replay`` then recomputes the same hidden
states as one batched LSTM pass over the drawn frames (the fed-back frames are detached, so that pass is
exact) and :func:`relaxed_frames` puts the straight-through relaxations on top.

The pitches of a voice-aware step are a Gumbel top-k: ``k`` pitches drawn without replacement by softmax
weights (the ``k`` largest Gumbel-perturbed scores), ``k`` itself a Gumbel-max draw from the count logits;
otherwise each pitch, and every re-strike, is a logistic-perturbed Bernoulli. ``net`` below is a
:class:`core.models.lstm_gan.LSTMGenerator` (its ``cfg``, ``lstm`` and heads).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class Draws:
    """What one free run decided and drew, so a differentiable pass can replay it exactly.

    Noises are already multiplied by the temperature (a decision compares ``logit + noise`` with 0 or with
    the top-k ``cut``); ``masks`` are the dropout multipliers ``[B, T, H]`` after each layer but the last
    and before the heads (``None`` in eval mode).
    """

    frames: torch.Tensor  # [B, T, 2P] hard 0/1
    restrike: torch.Tensor  # [B, T, P] hard re-strike decisions
    pitch_noise: torch.Tensor  # [B, T, P] Gumbel (top-k) or logistic (Bernoulli) perturbation
    restrike_noise: torch.Tensor  # [B, T, P] logistic perturbation
    cut: torch.Tensor | None  # [B, T, 1] the top-k threshold, in the units of ``logit + noise``
    masks: list[torch.Tensor | None]


def straight_through(hard: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
    """``hard`` in the forward pass, the gradient of ``soft`` in the backward pass."""
    return hard + (soft - soft.detach()) if soft.requires_grad else hard


def top_k_cut(perturbed: torch.Tensor, k: torch.Tensor, most: int, margin: float) -> torch.Tensor:
    """Per row ``[B, 1]``: midway between the ``k``-th and ``k+1``-th largest entries (``k`` ≤ ``most``).

    ``k = 0`` puts the cut ``margin`` above the largest entry, ``k = n`` ``margin`` below the smallest, so
    ``perturbed > cut`` keeps exactly ``k`` entries (a partial top-k, not a full sort).
    """
    top = perturbed.topk(min(most + 1, perturbed.shape[-1]), dim=-1).values
    ranked = torch.cat([top[:, :1] + 2 * margin, top, top[:, -1:] - 2 * margin], dim=-1)
    return ranked.gather(-1, torch.stack([k, k + 1], dim=-1)).mean(-1, keepdim=True)


def dropout_mask(like: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Inverted-dropout multipliers (0 or ``1 / (1 - p)``) of ``like``'s shape, in fp32."""
    keep = torch.rand(like.shape, generator=generator, device=like.device) >= p
    return keep.float().div_(1.0 - p)


def _gumbel(u: torch.Tensor) -> torch.Tensor:
    return -torch.log(-torch.log(u))


def _logistic(u: torch.Tensor) -> torch.Tensor:
    return torch.log(u) - torch.log1p(-u)


def draw_noise(
    cfg, batch: int, steps: int, temperature: float, generator: torch.Generator | None, device: torch.device
) -> torch.Tensor:
    """Step-major noise ``[T, B, 2P (+ max_voices + 1)]`` for the pitches, the re-strikes and the count (in
    the order of the heads' logits), times the temperature.

    Drawn step by step in the order of the first version's sampler (count, pitches, re-strikes), so a seed
    gives the same pieces.
    """
    widths = ([cfg.max_voices + 1] if cfg.voices else []) + [cfg.n_pitches, cfg.n_pitches]
    uniforms = [torch.empty(steps, batch, width, device=device) for width in widths]
    for t in range(steps):
        for u in uniforms:
            torch.rand(u.shape[1:], generator=generator, device=device, out=u[t])
    uniforms = [u.clamp_(1e-6, 1.0 - 1e-6) for u in uniforms]
    pitch = (_gumbel if cfg.voices else _logistic)(uniforms[-2])
    count = [_gumbel(uniforms[0])] if cfg.voices else []
    return torch.cat([pitch, _logistic(uniforms[-1]), *count], dim=-1).mul_(temperature)


def matmul_dtype(device: torch.device) -> torch.dtype:
    """The autocast dtype where autocast is on for ``device``, else fp32."""
    if torch.is_autocast_enabled(device.type):
        return torch.get_autocast_dtype(device.type)
    return torch.float32


def _fused_weights(net: nn.Module, dtype: torch.dtype) -> tuple[list, list, torch.Tensor, torch.Tensor]:
    """Per layer ``[W_ih | W_hh]`` and summed biases (columns), gates reordered to i, f, o, g; the heads
    stacked. Weights are the left operand: this CPU's bf16 matmuls of ``W @ x`` with ``x`` [features,
    batch] ran faster than ``x @ Wᵀ``."""
    lstm, h = net.lstm, net.cfg.g_hidden
    order = torch.cat([torch.arange(0, 2 * h), torch.arange(3 * h, 4 * h), torch.arange(2 * h, 3 * h)])
    order = order.to(lstm.weight_hh_l0.device)
    weights, biases = [], []
    for layer in range(lstm.num_layers):
        w = torch.cat([getattr(lstm, f"weight_ih_l{layer}"), getattr(lstm, f"weight_hh_l{layer}")], dim=1)
        weights.append(w[order].to(dtype))
        bias = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")
        biases.append(bias[order].to(dtype).unsqueeze(1))
    heads = net.output_layers()
    head_w = torch.cat([head.weight for head in heads]).to(dtype)
    return weights, biases, head_w, torch.cat([head.bias for head in heads]).to(dtype).unsqueeze(1)


def _buffers(net: nn.Module, z: torch.Tensor, batch: int, steps: int, dtype: torch.dtype) -> list:
    """Per layer, the inputs of every step, feature-major ``[T + 1, in + H, B]``: layer 0 reads ``[frame,
    noise, h]``, a layer above ``[h below, h]``; step ``t`` reads ``t`` and writes its states in ``t + 1``."""
    cfg, device = net.cfg, z.device
    inputs = [cfg.frame_dim + cfg.noise_dim] + [cfg.g_hidden] * (cfg.g_layers - 1)
    shapes = [(steps + 1, width + cfg.g_hidden, batch) for width in inputs]
    rows = [torch.zeros(shape, dtype=dtype, device=device) for shape in shapes]
    h0, _ = net.initial_state(z)
    for layer, row in enumerate(rows):
        row[0, -cfg.g_hidden :] = h0[layer].t()
    return rows


@torch.no_grad()
def free_running(
    net: nn.Module,
    z: torch.Tensor,
    noise: torch.Tensor,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> Draws:
    """Sample ``noise.shape[1]`` frames, each fed back as the next input: per step one matmul per layer and
    about twenty small ops (matmuls in the autocast dtype; cell states, logits and decisions in fp32)."""
    cfg = net.cfg
    batch, steps = noise.shape[:2]
    n, hidden, layers, width = cfg.n_pitches, cfg.g_hidden, cfg.g_layers, cfg.frame_dim + cfg.noise_dim
    device, dtype = noise.device, matmul_dtype(noise.device)
    weights, biases, head_w, head_b = _fused_weights(net, dtype)
    perturbation = draw_noise(cfg, batch, steps, temperature, generator, device)
    p = cfg.g_dropout if net.training else 0.0
    like = torch.empty(batch, steps, hidden, device=device)
    masks = [dropout_mask(like, p, generator) if p > 0 else None for _ in range(layers)]
    step_masks = [m.permute(1, 2, 0).to(dtype).unbind(0) if m is not None else [None] * steps for m in masks]
    rows = _buffers(net, z, batch, steps, dtype)
    rows[0][:steps, 2 * n : width] = noise.permute(1, 2, 0)
    cells = net.initial_state(z)[1].float().transpose(1, 2).contiguous()
    gates = torch.empty(4 * hidden, batch, dtype=dtype, device=device)
    act = torch.empty(4 * hidden, batch, device=device)
    sig, tanh_g = act[: 3 * hidden], act[3 * hidden :]
    i_gate, f_gate, o_gate = act[:hidden], act[hidden : 2 * hidden], act[2 * hidden : 3 * hidden]
    active = torch.zeros(steps, batch, n, dtype=torch.bool, device=device)
    onset, strike = torch.zeros_like(active), torch.zeros_like(active)
    most = min(cfg.max_voices + 1, n)
    ranked = torch.zeros(steps, batch, most, device=device)  # the top scores, for the cut
    counts = torch.zeros(steps, batch, dtype=torch.long, device=device)
    positions = torch.arange(most, device=device)
    was = torch.zeros(batch, n, dtype=torch.bool, device=device)
    for t in range(steps):
        for layer in range(layers):
            torch.addmm(biases[layer], weights[layer], rows[layer][t], out=gates)
            torch.sigmoid(gates[: 3 * hidden], out=sig)
            torch.tanh(gates[3 * hidden :], out=tanh_g)
            cell = cells[layer].mul_(f_gate).addcmul_(i_gate, tanh_g)
            h = torch.mul(torch.tanh(cell), o_gate, out=rows[layer][t + 1, -hidden:])
            mask = step_masks[layer][t]
            if layer + 1 < layers:
                below = rows[layer + 1][t, :hidden]
                torch.mul(h, mask, out=below) if mask is not None else below.copy_(h)
            elif mask is not None:
                h = h * mask
        logits = torch.addmm(head_b, head_w, h).t() + perturbation[t]
        if cfg.voices:
            torch.argmax(logits[:, 2 * n :], dim=-1, out=counts[t])
            top = torch.topk(logits[:, :n], most, dim=-1)
            ranked[t] = top.values
            active[t].scatter_(1, top.indices, positions < counts[t].unsqueeze(-1))
        else:
            torch.gt(logits[:, :n], 0, out=active[t])
        torch.gt(logits[:, n : 2 * n], 0, out=strike[t])
        torch.logical_and(active[t], torch.le(was, strike[t]), out=onset[t])  # starts, or is re-struck
        rows[0][t + 1, :n] = active[t].t()
        rows[0][t + 1, n : 2 * n] = onset[t].t()
        was = active[t]
    frames = torch.cat([active, onset], dim=-1).transpose(0, 1).float()
    noises = perturbation.transpose(0, 1)
    cut = _cuts(ranked, counts, temperature).transpose(0, 1) if cfg.voices else None
    return Draws(frames, strike.transpose(0, 1).float(), noises[..., :n], noises[..., n : 2 * n], cut, masks)


def _cuts(ranked: torch.Tensor, counts: torch.Tensor, margin: float) -> torch.Tensor:
    """The top-k cut of every step from its top scores: midway between the k-th and k+1-th, ``margin``
    above the top for k = 0 and below the last for k = n (as :func:`top_k_cut`)."""
    padded = torch.cat([ranked[..., :1] + 2 * margin, ranked, ranked[..., -1:] - 2 * margin], dim=-1)
    return padded.gather(-1, torch.stack([counts, counts + 1], dim=-1)).mean(-1, keepdim=True)


def relaxed_frames(logits: torch.Tensor, draws: Draws, n_pitches: int, scale: float) -> torch.Tensor:
    """The drawn frames ``[B, T, 2P]`` with straight-through gradients from ``logits`` ``[B, T, ≥ 2P]``.

    Pitches: sigmoid((logit + noise − cut) / scale); re-strikes: sigmoid((logit + noise) / scale), where
    ``scale`` = temperature × relaxation temperature (the noises are already times the temperature). An onset
    is a pitch that starts sounding or is re-struck.
    """
    n = n_pitches
    perturbed = logits[..., :n] + draws.pitch_noise
    if draws.cut is not None:
        perturbed = perturbed - draws.cut
    active = straight_through(draws.frames[..., :n], torch.sigmoid(perturbed / scale))
    soft_strike = torch.sigmoid((logits[..., n : 2 * n] + draws.restrike_noise) / scale)
    strike = straight_through(draws.restrike, soft_strike)
    was_active = F.pad(draws.frames[:, :-1, :n], (0, 0, 1, 0))
    onset = active * (1.0 - was_active * (1.0 - strike))
    return torch.cat([active, onset], dim=-1)
