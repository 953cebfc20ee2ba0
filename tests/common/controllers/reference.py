"""An independent, step-by-step re-implementation of the ENAS sampler for one fixed decision
sequence (the equations of melodyguan/enas general_controller.py and common_ops.py, written
out with PyTorch's gate order i, f, g, o), read from an ``LstmPolicy``'s parameters. Float64;
differentiable, so it also serves as the autograd reference of the REINFORCE gradient."""

from __future__ import annotations

import torch


def _lstm_step(x, hs, cs, layers):
    new_h, new_c = [], []
    inp = x
    for (w_ih, w_hh, b_ih, b_hh), h, c in zip(layers, hs, cs, strict=True):
        gates = w_ih @ inp + w_hh @ h + b_ih + b_hh
        i, f, g, o = gates.chunk(4)
        c2 = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h2 = torch.sigmoid(o) * torch.tanh(c2)
        new_h.append(h2)
        new_c.append(c2)
        inp = h2
    return inp, new_h, new_c


def reference(policy, row) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(log-probability, entropy, skip penalty) of the decision sequence ``row``."""
    p = {k: v.double() for k, v in policy.named_parameters()}
    size = policy.lstm.hidden_size
    zeros = torch.zeros(4 * size, dtype=torch.float64)
    layers = [
        (
            p[f"lstm.weight_ih_l{k}"],
            p[f"lstm.weight_hh_l{k}"],
            p.get(f"lstm.bias_ih_l{k}", zeros),
            p.get(f"lstm.bias_hh_l{k}", zeros),
        )
        for k in range(policy.lstm.num_layers)
    ]
    hs = [torch.zeros(size, dtype=torch.float64) for _ in layers]
    cs = [torch.zeros(size, dtype=torch.float64) for _ in layers]

    def transform(z):
        if policy.temperature is not None:
            z = z / policy.temperature
        if policy.tanh_constant is not None:
            z = policy.tanh_constant * torch.tanh(z)
        return z

    def entropy_of(logp, a):
        if policy.entropy_kind == "full":
            return -(logp.exp() * logp).sum()
        return -logp[a] * logp[a].exp()

    row = [int(v) for v in row]
    x = p["g_emb"][0]
    log_prob = entropy = torch.zeros((), dtype=torch.float64)
    kls, anchors, col = [], [], 0
    target = torch.tensor([1 - policy.skip_target, policy.skip_target], dtype=torch.float64)
    for step in range(policy.num_decisions):
        t = 0 if len(policy.soft) == 1 else step
        h, hs, cs = _lstm_step(x, hs, cs, layers)
        z = p[f"soft.{t}.weight"] @ h + p.get(f"soft.{t}.bias", 0.0)
        logp = torch.log_softmax(transform(z), 0)
        a = row[col]
        col += 1
        log_prob = log_prob + logp[a]
        entropy = entropy + entropy_of(logp, a)
        x = p[f"emb.{t}.weight"][a]
        if not policy.skip_attention or (step + 1) % policy.layer_decisions:
            continue
        layer = step // policy.layer_decisions
        h, hs, cs = _lstm_step(x, hs, cs, layers)
        if layer > 0:
            kl = torch.zeros((), dtype=torch.float64)
            picked = torch.zeros(size, dtype=torch.float64)
            count = 0
            for j, anchor in enumerate(anchors):
                q = p["v_attn.weight"][0] @ torch.tanh(
                    p["w_attn_1.weight"] @ anchor + p["w_attn_2.weight"] @ h
                )
                if policy.skip_form == "enas":  # softmax([-q, q]): p(connect) = sigmoid(2q)
                    logits = transform(torch.stack([-q, q]))
                    s = torch.sigmoid(logits)
                else:  # NAS-RL Sect. 3.3: p(connect) = sigmoid(q)
                    logits = transform(torch.stack([torch.zeros_like(q), q]))
                    s = torch.stack([1 - torch.sigmoid(logits[1]), torch.sigmoid(logits[1])])
                lp = torch.log_softmax(logits, 0)
                bit = row[col + j]
                log_prob = log_prob + lp[bit]
                entropy = entropy + entropy_of(lp, bit)
                kl = kl + (s * torch.log(s / target)).sum()
                if bit:
                    picked, count = picked + anchor, count + 1
            col += layer
            kls.append(kl)
            x = picked / (1 + count)
        else:
            x = p["g_emb"][0]
        anchors.append(h)
    penalty = torch.stack(kls).mean() if kls else torch.zeros((), dtype=torch.float64)
    return log_prob, entropy.detach(), penalty
