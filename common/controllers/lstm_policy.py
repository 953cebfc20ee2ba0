"""The LSTM policy of NAS by reinforcement learning: an LSTM that emits one categorical
decision per step, the embedding of its previous decision as the next input (Zoph & Le, ICLR
2017, Sect. 3.1; Zoph et al., CVPR 2018, Sect. 3; Pham et al., ICML 2018, Sect. 2.1-2.4).

Written after the official ENAS code (melodyguan/enas @4bcfd73: ``src/cifar10/
general_controller.py`` ``_build_sampler``, ``micro_controller.py``, ``src/common_ops.py``
``stack_lstm``) and the PyTorch ENAS the NAS-Bench-201 paper ran (D-X-Y/AutoDL-Projects
@f46486e ``xautodl/models/cell_searchs/search_model_enas_utils.py`` ``Controller``):

- step ``t``: ``h = LSTM(x, state)``; logits ``= W_soft h`` (+ bias), divided by the
  ``temperature``, then ``tanh_constant * tanh(.)`` (general_controller.py L152-155); a
  decision is drawn and its embedding is the next input (L170). The first input is a learnt
  vector (``g_emb``, L94 / AutoDL's ``input_vars``).
- ``skip_attention`` (the ENAS macro space, general_controller.py L213-253): after layer
  ``l``'s op, one more LSTM step gives ``h_l``; for ``l > 0`` each earlier layer ``j`` is a
  binary decision with logits ``[-q_j, q_j]``, ``q_j = v . tanh(W1 h_j + W2 h_l)``; the next
  input is the mean of the chosen ``h_j`` (sum over ``1 + count``, L247-248). Its skip
  penalty is ``KL`` of ``sigmoid(logits)`` to ``[1 - target, target]`` summed over ``j``
  and averaged over layers (L231-234, L267-268). As in the official code the penalty uses
  ``sigmoid(q)`` while the draws use ``softmax([-q, q]) = sigmoid(2q)``: kept.
- ``entropy``: ``"full"`` is each step's categorical entropy (micro_controller.py L169-171,
  AutoDL L65); ``"sampled"`` is ``-log p(a) * p(a)`` of the drawn decision only, what the
  macro controller sums (general_controller.py L168, L240-241). Either is returned detached:
  it is a reward bonus (``tf.stop_gradient`` in ENAS). ``entropy_grad=True`` keeps its
  gradient instead, for a loss with an entropy term (NASNet's PPO, App. A.2).

NAS-RL (Zoph & Le, Sect. 3.3) needs three options, all off by default: ``layer_decisions``
decisions per layer (filter height, filter width, number of filters) before each layer's
anchor step; ``skip_form="sigmoid"``, its anchor probability ``P(j -> i) = sigmoid(q_j)``
(drawn as logits ``[0, q_j]``) where ENAS draws with ``[-q_j, q_j]``; and ``init_range``,
its ``U(-0.08, 0.08)``.

The cell types differ in details kept as options: ENAS's LSTM has no bias and every
parameter starts ``U(-0.1, 0.1)`` (``init="uniform"``, L84); AutoDL uses ``nn.LSTM`` and an
``nn.Linear`` with biases and re-initialises only the input, the first layer's LSTM weights,
the embedding and the softmax weight (``init="autodl"``, L42-46). Decisions come out as one
flat row per sample: per layer its op, then (with ``skip_attention``) its ``l`` skip bits, the
order of ENAS's ``arc_seq``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

INITS = ("uniform", "autodl")
ENTROPIES = ("full", "sampled")
SKIP_FORMS = ("enas", "sigmoid")


@dataclass
class PolicySample:
    """``n`` decision sequences and, per sequence, sums over its steps."""

    decisions: torch.Tensor  # [n, T] int64, flat per sample (module docstring)
    log_prob: torch.Tensor  # [n], differentiable
    entropy: torch.Tensor  # [n], detached unless the policy has entropy_grad
    skip_penalty: torch.Tensor  # [n], differentiable; zeros without skip attention
    skip_count: torch.Tensor  # [n], number of skip connections drawn


class LstmPolicy(nn.Module):
    """``num_decisions`` categorical decisions, each over ``num_choices`` (an int: one softmax
    and embedding shared by all steps, as ENAS and AutoDL; a sequence: one per step, as
    NAS-RL's per-step decoders). With ``skip_attention`` the decisions form layers of
    ``layer_decisions`` consecutive steps, each layer followed by its anchor step."""

    def __init__(
        self,
        num_decisions: int,
        num_choices: int | Sequence[int],
        lstm_size: int = 64,
        lstm_layers: int = 1,
        tanh_constant: float | None = None,
        temperature: float | None = None,
        skip_attention: bool = False,
        skip_target: float = 0.4,
        entropy: str = "full",
        lstm_bias: bool = False,
        softmax_bias: bool = False,
        init: str = "uniform",
        layer_decisions: int = 1,
        skip_form: str = "enas",
        init_range: float = 0.1,
        entropy_grad: bool = False,
    ) -> None:
        super().__init__()
        if init not in INITS or entropy not in ENTROPIES or skip_form not in SKIP_FORMS:
            raise ValueError(
                f"init must be in {INITS}, entropy in {ENTROPIES}, skip_form in {SKIP_FORMS}"
            )
        if layer_decisions < 1 or num_decisions % layer_decisions:
            raise ValueError(
                f"{num_decisions} decisions do not split into layers of {layer_decisions}"
            )
        shared = isinstance(num_choices, int)
        self.choices = [num_choices] * num_decisions if shared else list(num_choices)
        if len(self.choices) != num_decisions:
            raise ValueError(f"{len(self.choices)} choice counts for {num_decisions} decisions")
        self.num_decisions = num_decisions
        self.tanh_constant, self.temperature = tanh_constant, temperature
        self.skip_attention, self.skip_target = skip_attention, skip_target
        self.entropy_kind = entropy
        self.layer_decisions, self.skip_form = layer_decisions, skip_form
        self.entropy_grad = entropy_grad
        h = lstm_size
        self.g_emb = nn.Parameter(torch.empty(1, h))
        self.lstm = nn.LSTM(h, h, num_layers=lstm_layers, bias=lstm_bias)
        sizes = self.choices[:1] if shared else self.choices
        self.soft = nn.ModuleList(nn.Linear(h, k, bias=softmax_bias) for k in sizes)
        self.emb = nn.ModuleList(nn.Embedding(k, h) for k in sizes)
        if skip_attention:
            self.w_attn_1 = nn.Linear(h, h, bias=False)
            self.w_attn_2 = nn.Linear(h, h, bias=False)
            self.v_attn = nn.Linear(h, 1, bias=False)
        self._init(init, init_range)

    def _init(self, init: str, r: float) -> None:
        if init == "uniform":  # ENAS: tf.random_uniform_initializer(-0.1, 0.1) for every variable
            for p in self.parameters():
                nn.init.uniform_(p, -r, r)
            return
        # AutoDL search_model_enas_utils.py L42-46; the rest keeps PyTorch's default init
        picked = [self.g_emb, self.lstm.weight_hh_l0, self.lstm.weight_ih_l0]
        picked += [e.weight for e in self.emb] + [s.weight for s in self.soft]
        for p in picked:
            nn.init.uniform_(p, -r, r)

    @property
    def num_layers(self) -> int:
        return self.num_decisions // self.layer_decisions

    @property
    def sequence_length(self) -> int:
        return self.prefix_length(self.num_layers)

    def prefix_length(self, layers: int) -> int:
        """Length of the row of the first ``layers`` layers (a row's layout is layer by
        layer, so a shorter network's row is a prefix: NAS-RL's growing depth)."""
        skips = layers * (layers - 1) // 2 if self.skip_attention else 0
        return layers * self.layer_decisions + skips

    def sample(
        self, n: int = 1, generator: torch.Generator | None = None, layers: int | None = None
    ) -> PolicySample:
        """Draw ``n`` sequences (independently, with the current parameters); ``layers``:
        only the first so many layers (default all)."""
        return self._run(n, None, generator, self._layers(layers))

    def evaluate(self, decisions: torch.Tensor, layers: int | None = None) -> PolicySample:
        """Log-probability, entropy and skip penalty of given sequences (``[n, T]``, ``T`` the
        row length of ``layers`` layers, default all)."""
        layers = self._layers(layers)
        length = self.prefix_length(layers)
        decisions = torch.as_tensor(decisions, dtype=torch.long, device=self.g_emb.device)
        if decisions.ndim != 2 or decisions.shape[1] != length:
            raise ValueError(f"decisions must be [n, {length}]")
        return self._run(len(decisions), decisions, None, layers)

    def log_prob(self, decisions: torch.Tensor, layers: int | None = None) -> torch.Tensor:
        return self.evaluate(decisions, layers).log_prob

    def _layers(self, layers: int | None) -> int:
        if layers is None:
            return self.num_layers
        if not 1 <= layers <= self.num_layers:
            raise ValueError(f"layers must be in 1..{self.num_layers}, got {layers}")
        return layers

    def logits_transform(self, logits: torch.Tensor) -> torch.Tensor:
        """``tanh_constant * tanh(logits / temperature)``, each part only when set."""
        if self.temperature is not None:
            logits = logits / self.temperature
        if self.tanh_constant is not None:
            logits = self.tanh_constant * torch.tanh(logits)
        return logits

    # internals -------------------------------------------------------------------------------

    def _run(
        self,
        n: int,
        forced: torch.Tensor | None,
        generator: torch.Generator | None,
        layers: int,
    ) -> PolicySample:
        dev = self.g_emb.device
        x, state = self.g_emb.expand(n, -1), None
        out: list[torch.Tensor] = []
        log_prob = torch.zeros(n, device=dev)
        entropy = torch.zeros(n, device=dev)
        penalties: list[torch.Tensor] = []
        skips = torch.zeros(n, device=dev)
        anchors: list[torch.Tensor] = []
        anchors_w1: list[torch.Tensor] = []
        col = 0
        for step in range(layers * self.layer_decisions):
            table = 0 if len(self.soft) == 1 else step
            h, state = self._lstm(x, state)
            logits = self.logits_transform(self.soft[table](h))
            a, lp, ent = self._choose(logits, forced, col, 1, generator)
            out.append(a)
            log_prob, entropy, col = log_prob + lp, entropy + ent, col + 1
            x = self.emb[table](a[:, 0])
            if not self.skip_attention or (step + 1) % self.layer_decisions:
                continue
            layer = step // self.layer_decisions
            h, state = self._lstm(x, state)
            if layer > 0:
                query = torch.tanh(torch.stack(anchors_w1, 1) + self.w_attn_2(h)[:, None])
                q = self.v_attn(query)  # [n, layer, 1]
                low = -q if self.skip_form == "enas" else torch.zeros_like(q)
                logits = self.logits_transform(torch.cat([low, q], dim=-1))  # [n, layer, 2]
                a, lp, ent = self._choose(logits, forced, col, layer, generator)
                out.append(a)
                log_prob, entropy, col = log_prob + lp, entropy + ent, col + layer
                penalties.append(self._skip_kl(logits))
                chosen = a.to(h.dtype)  # [n, layer]
                skips = skips + chosen.sum(1)
                x = torch.einsum("ns,nsh->nh", chosen, torch.stack(anchors, 1))
                x = x / (1.0 + chosen.sum(1, keepdim=True))
            else:
                x = self.g_emb.expand(n, -1)
            anchors.append(h)
            anchors_w1.append(self.w_attn_1(h))
        penalty = torch.stack(penalties, 1).mean(1) if penalties else torch.zeros(n, device=dev)
        entropy = entropy if self.entropy_grad else entropy.detach()
        return PolicySample(torch.cat(out, 1), log_prob, entropy, penalty, skips)

    def _lstm(self, x: torch.Tensor, state):
        y, state = self.lstm(x[None], state)
        return y[0], state

    def _choose(self, logits, forced, col: int, width: int, generator):
        """Draw (or read from ``forced``) ``width`` decisions from ``logits`` ([n, k] for one
        decision, [n, width, 2] for skip bits); returns them [n, width] with the summed
        log-probability and entropy per sample."""
        logp = F.log_softmax(logits, dim=-1).reshape(len(logits), width, -1)
        if forced is None:
            flat = logp.detach().exp().reshape(-1, logp.shape[-1])
            a = torch.multinomial(flat, 1, generator=generator).reshape(len(logits), width)
        else:
            a = forced[:, col : col + width]
            if (a < 0).any() or (a >= logp.shape[-1]).any():
                raise ValueError(f"decision out of range at columns {col}..{col + width - 1}")
        lp = logp.gather(-1, a[..., None])[..., 0]  # [n, width]
        if self.entropy_kind == "full":
            ent = -(logp.exp() * logp).sum(-1)
        else:
            ent = -lp * lp.exp()
        return a, lp.sum(1), ent.sum(1)

    def _skip_kl(self, logits: torch.Tensor) -> torch.Tensor:
        """general_controller.py L231-233: sum_j sum_c s_jc log(s_jc / target_c), s = sigmoid
        (ENAS form); with ``skip_form="sigmoid"``, s is the drawn distribution itself."""
        target = logits.new_tensor([1.0 - self.skip_target, self.skip_target])
        s = torch.sigmoid(logits) if self.skip_form == "enas" else torch.softmax(logits, -1)
        return (s * torch.log(s / target)).sum((1, 2))
