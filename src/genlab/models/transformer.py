"""A small decoder-only transformer in one file (nanoGPT's ``model.py``, trimmed).

Read top to bottom: :class:`GPTConfig` (the architecture, commented defaults),
:class:`CausalSelfAttention`, :class:`MLP`, :class:`Block` (pre-LayerNorm),
:class:`GPT` (token + position embeddings, blocks, final LayerNorm, a head tied
to the token embedding; ``forward(idx, targets) -> (logits, loss)``, the loss in
nats per token), and the size ladder: :func:`non_embedding_params` (Kaplan's N
in closed form), :func:`config_for_size` and :func:`size_ladder` (the config
whose N is nearest a target, at a fixed aspect ratio ``n_embd / n_layer``).

Kaplan et al. (2020) count N without the embeddings (token and position) and
the training compute as C ≈ 6·N·D (2N multiply-adds forward and 4N backward
per token); :meth:`GPT.flops_per_token` gives 6N, and with ``exact=True`` adds
what that count leaves out (the attention scores and the tied output head),
which matter at the tiny sizes a CPU can train.

This module imports torch; ``import genlab`` does not import it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F

from ..core.checks import check_int
from ..core.errors import GenlabError


# --------------------------------------------------------------------------- the architecture

@dataclass(frozen=True)
class GPTConfig:
    """The architecture of :class:`GPT`."""

    vocab_size: int = 128       # tokens (characters or bytes)
    block_size: int = 64        # context length: the longest sequence the model sees
    n_layer: int = 2            # transformer blocks
    n_head: int = 2             # attention heads per block; n_embd must be divisible by it
    n_embd: int = 32            # width of the residual stream (Kaplan's d_model)
    dropout: float = 0.0        # dropout on attention and residual outputs (0: off, as for scaling runs)
    bias: bool = True           # biases in the Linear layers and LayerNorms

    def __post_init__(self):
        check_int(self.vocab_size, "vocab_size", 2)
        check_int(self.block_size, "block_size", 1)
        check_int(self.n_layer, "n_layer", 1)
        check_int(self.n_head, "n_head", 1)
        check_int(self.n_embd, "n_embd", 1)
        if self.n_embd % self.n_head:
            raise GenlabError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if not 0.0 <= float(self.dropout) < 1.0:
            raise GenlabError(f"dropout must be in [0, 1), got {self.dropout!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v at once
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        B, T, C = x.shape                                                     # batch, time, n_embd
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)                    # 3 x (B, T, C)
        hs = C // self.n_head
        q, k, v = (t.view(B, T, self.n_head, hs).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=self.dropout if self.training else 0.0,
                                           is_causal=True)                     # (B, nh, T, hs)
        y = y.transpose(1, 2).contiguous().view(B, T, C)                      # (B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):                                                     # (B, T, C) -> (B, T, C)
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """A decoder-only transformer language model.

    Parameters
    ----------
    config : GPTConfig
    seed : int, optional
        Seeds the initialization (under :func:`torch.random.fork_rng`, so the
        caller's global stream is left as it was); None uses the global stream.
    """

    def __init__(self, config: GPTConfig, seed: int | None = None):
        super().__init__()
        if not isinstance(config, GPTConfig):
            raise GenlabError(f"config must be a GPTConfig, got {type(config).__name__}")
        self.config = config
        if seed is None:
            self._build()
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(int(seed))
                self._build()

    def _build(self):
        c = self.config
        self.wte = nn.Embedding(c.vocab_size, c.n_embd)   # token embedding, tied to the head
        self.wpe = nn.Embedding(c.block_size, c.n_embd)   # learned position embedding
        self.drop = nn.Dropout(c.dropout)
        self.h = nn.ModuleList([Block(c) for _ in range(c.n_layer)])
        self.ln_f = nn.LayerNorm(c.n_embd, bias=c.bias)
        self.lm_head = nn.Linear(c.n_embd, c.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight             # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():           # GPT-2's scaled init of the residual projections
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * c.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def n_params(self, non_embedding: bool = True) -> int:
        """Parameters, the tied head counted once; ``non_embedding``: without the token and
        position embeddings (Kaplan's N)."""
        n = sum(p.numel() for p in self.parameters())      # parameters() yields the tied weight once
        if non_embedding:
            n -= self.wte.weight.numel() + self.wpe.weight.numel()
        return n

    def flops_per_token(self, exact: bool = False) -> float:
        """Training FLOPs per token: 6N (Kaplan's C = 6ND); ``exact`` adds the attention scores
        (6·n_layer·block_size·n_embd: QKᵀ and AV forward and backward, mean context over a
        full block counted as block_size, as Kaplan's table) and the tied head (6·vocab·n_embd)."""
        c = self.config
        f = 6.0 * self.n_params(non_embedding=True)
        if exact:
            f += 6.0 * c.n_layer * c.block_size * c.n_embd + 6.0 * c.vocab_size * c.n_embd
        return f

    def forward(self, idx, targets=None):
        """Logits of the next token at every position, and the mean cross-entropy (nats per token).

        Parameters
        ----------
        idx : LongTensor of shape (B, T), T <= block_size
        targets : LongTensor of shape (B, T), optional

        Returns
        -------
        logits : Tensor of shape (B, T, vocab_size)
        loss : scalar Tensor or None
        """
        B, T = idx.shape
        assert T <= self.config.block_size, f"sequence of length {T} > block_size {self.config.block_size}"
        pos = torch.arange(T, device=idx.device)                           # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))                        # (B, T, C)
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))                                 # (B, T, vocab)
        loss = None
        if targets is not None:
            assert targets.shape == (B, T), targets.shape
            loss = F.cross_entropy(logits.reshape(B * T, -1), targets.reshape(B * T))
        return logits, loss

    def optimizer(self, lr: float, weight_decay: float = 0.1, betas=(0.9, 0.95)):
        """AdamW with weight decay on the 2-D weights (matrices and embeddings) only, as nanoGPT."""
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        no_decay = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr, betas=tuple(betas), foreach=True)


# --------------------------------------------------------------------------- the size ladder

def non_embedding_params(n_layer: int, n_embd: int, bias: bool = True) -> int:
    """Kaplan's N of a :class:`GPTConfig` in closed form: ``n_layer·(12 d² + 13 d) + 2 d`` with
    biases (``n_layer·(12 d² + 2 d) + d`` without): attention 4d² (+4d), MLP 8d² (+5d),
    two LayerNorms per block and a final one (2d each with bias, d without)."""
    d = n_embd
    if bias:
        return n_layer * (12 * d * d + 13 * d) + 2 * d
    return n_layer * (12 * d * d + 2 * d) + d


def _heads(n_embd: int) -> int:
    """Heads of 16 dimensions when n_embd allows it, else of 8, else one."""
    for hs in (16, 8):
        if n_embd % hs == 0 and n_embd >= hs:
            return n_embd // hs
    return 1


#: n_embd / n_layer of the ladder: Kaplan found the loss nearly flat for aspect ratios 20-200.
ASPECT = 16


def config_for_size(target: float, *, vocab_size: int, block_size: int, aspect: float = ASPECT,
                    bias: bool = True) -> GPTConfig:
    """The config whose non-embedding N is nearest ``target`` (in log), with n_embd a multiple
    of 8 and n_embd / n_layer near ``aspect``.

    Every (n_layer, n_embd) pair with n_layer in 1..12 and n_embd in 8, 16, ..., 1024 is scored
    by ``|log N - log target| + 0.25·|log(n_embd / n_layer) - log(aspect)|`` and the best kept.
    """
    if not (isinstance(target, (int, float)) and math.isfinite(target) and target > 0):
        raise GenlabError(f"a model size must be a number > 0 (non-embedding parameters), got {target!r}")
    if target < non_embedding_params(1, 8, bias) / 2:
        raise GenlabError(f"model size {target:g} is below the smallest transformer of the ladder "
                          f"({non_embedding_params(1, 8, bias)} non-embedding parameters: 1 layer, n_embd 8)")
    if target > non_embedding_params(12, 1024, bias) * 2:
        raise GenlabError(f"model size {target:g} is above the largest of the ladder "
                          f"({non_embedding_params(12, 1024, bias):.3g}); this is a CPU laboratory")
    best = None
    for n_layer in range(1, 13):
        for n_embd in range(8, 1025, 8):
            n = non_embedding_params(n_layer, n_embd, bias)
            score = abs(math.log(n / target)) + 0.25 * abs(math.log(n_embd / n_layer / aspect))
            if best is None or score < best[0]:
                best = (score, n_layer, n_embd)
    _, n_layer, n_embd = best
    return GPTConfig(vocab_size=vocab_size, block_size=block_size, n_layer=n_layer, n_head=_heads(n_embd),
                     n_embd=n_embd, bias=bias)


def size_ladder(sizes, *, vocab_size: int, block_size: int, aspect: float = ASPECT, bias: bool = True) -> list:
    """:func:`config_for_size` of every target; two targets landing on one config is an error."""
    configs = [config_for_size(float(s), vocab_size=vocab_size, block_size=block_size, aspect=aspect, bias=bias)
               for s in sizes]
    seen = {}
    for s, c in zip(sizes, configs):
        key = (c.n_layer, c.n_embd)
        if key in seen:
            raise GenlabError(f"model sizes {seen[key]:g} and {float(s):g} give the same transformer "
                              f"(n_layer {c.n_layer}, n_embd {c.n_embd}); space the sizes further apart")
        seen[key] = float(s)
    return configs
