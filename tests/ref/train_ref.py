#!/usr/bin/python3
"""Float64 training reference for infuse: LoRA, the loss, gradients, AdamW,
and PEFT adapter folders.  Builds on llama_ref.py (the forward pass).

Written from the math and from PEFT's documented file layout; neither peft
nor transformers is used (or installed).

  * Lora: A [r, in] and B [out, r] per adapted module, keyed by the Hugging
    Face module path ("model.layers.0.self_attn.q_proj"); scale alpha / r,
    or alpha / sqrt(r) with rsLoRA.  llama_ref.forward(..., lora=) applies
    y = x W^T (+ b) + scale * (x A^T) B^T; dropout is off.
  * batch_loss: B rows of T tokens, each its own sequence from position 0
    (causal attention within the row).  mask[b, t] = 1 makes token t of row
    b a target predicted from position t - 1; mask[:, 0] is ignored.  With
    per-row weights w[b]:
        loss = sum w[b] mask[b,t] CE(b,t) / sum w[b] mask[b,t]
    Padding is whatever the tokens past a row's length are, masked out.
  * lora_grads / full_grads: torch autograd in float64; full_grads covers
    every model parameter (embedding, norms, projections, biases, lm_head;
    with tied embeddings both uses add into embed_tokens).
  * clip_grad_norm / adamw_step: torch.nn.utils.clip_grad_norm_ and
    torch.optim.AdamW (torch 1.13, amsgrad off) written out.
  * save_adapter / load_adapter: PEFT's folder (adapter_config.json,
    adapter_model.safetensors with keys
    "base_model.model.<module path>.lora_A.weight" / ".lora_B.weight").

Command line:
    train_ref.py logits MODEL_DIR ADAPTER_DIR TOKEN... [--out FILE]
prints the adapted model's logits for the tokens (one row per position) or
writes them, with the tokens, to FILE (safetensors: tokens I32 [T],
logits F32 [T, V]).  ADAPTER_DIR may be "-" for the base model.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep tests/ref free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref as ref  # noqa: E402

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SUBLAYER = {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn", "o_proj": "self_attn",
            "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"}


def module_path(layer, target):
    return f"model.layers.{layer}.{SUBLAYER[target]}.{target}"


def target_shape(cfg, target):
    """(in, out) of a projection."""
    H, I = cfg.hidden_size, cfg.intermediate_size
    Q, KV = cfg.num_attention_heads * cfg.head_dim, cfg.num_key_value_heads * cfg.head_dim
    return {"q_proj": (H, Q), "k_proj": (H, KV), "v_proj": (H, KV), "o_proj": (Q, H),
            "gate_proj": (H, I), "up_proj": (H, I), "down_proj": (I, H)}[target]


class Lora:
    def __init__(self, r, alpha, targets, rslora=False):
        self.r, self.alpha, self.rslora = r, alpha, rslora
        self.targets = [t for t in TARGETS if t in targets]
        self.A, self.B = {}, {}   # module path -> float64 tensor

    @property
    def scale(self):
        return self.alpha / math.sqrt(self.r) if self.rslora else self.alpha / self.r

    def modules(self):
        """Module paths in PEFT's state-dict order (layer, forward order)."""
        return sorted(self.A, key=lambda m: (int(m.split(".")[2]), TARGETS.index(m.rsplit(".", 1)[1])))

    def params(self):
        """[(peft key, tensor)] in state-dict order, A before B."""
        out = []
        for m in self.modules():
            out.append((peft_key(m, "A"), self.A[m]))
            out.append((peft_key(m, "B"), self.B[m]))
        return out


def lora_init(cfg, r, alpha, targets, seed, b_std, rslora=False):
    """A as PEFT initialises it (kaiming_uniform with a = sqrt(5), i.e.
    U(-1/sqrt(in), 1/sqrt(in))); B ~ N(0, b_std) instead of PEFT's zeros,
    so that the adapter changes the outputs and dL/dA is not zero."""
    g = torch.Generator().manual_seed(seed)
    lo = Lora(r, alpha, targets, rslora)
    for i in range(cfg.num_hidden_layers):
        for t in lo.targets:
            n_in, n_out = target_shape(cfg, t)
            bound = 1.0 / math.sqrt(n_in)
            a = (torch.rand(r, n_in, generator=g, dtype=torch.float64) * 2 - 1) * bound
            b = torch.randn(n_out, r, generator=g, dtype=torch.float64) * b_std
            # stored as F32, so keep the values a float32 holds exactly
            lo.A[module_path(i, t)] = a.float().double()
            lo.B[module_path(i, t)] = b.float().double()
    return lo


# --------------------------------------------------------------------------
# PEFT adapter folders
# --------------------------------------------------------------------------

def peft_key(module, which):
    return f"base_model.model.{module}.lora_{which}.weight"


def save_adapter(lo, folder, base_model, dtype="F32"):
    """Writes what PEFT's save_pretrained writes for a LoRA on a causal LM
    (the config keys of PEFT 0.14's LoraConfig with their defaults)."""
    os.makedirs(folder, exist_ok=True)
    cfg = {
        "alpha_pattern": {}, "auto_mapping": None, "base_model_name_or_path": base_model,
        "bias": "none", "eva_config": None, "exclude_modules": None, "fan_in_fan_out": False,
        "inference_mode": True, "init_lora_weights": True, "layer_replication": None,
        "layers_pattern": None, "layers_to_transform": None, "loftq_config": {},
        "lora_alpha": lo.alpha, "lora_bias": False, "lora_dropout": 0.0,
        "megatron_config": None, "megatron_core": "megatron.core", "modules_to_save": None,
        "peft_type": "LORA", "r": lo.r, "rank_pattern": {}, "revision": None,
        # PEFT keeps target_modules as a set, so its files list them in no
        # particular order; a fixed unsorted order stands in for that
        "target_modules": sorted(lo.targets, key=lambda t: t[::-1]),
        "task_type": "CAUSAL_LM", "use_dora": False, "use_rslora": lo.rslora,
    }
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    ref.write_safetensors(os.path.join(folder, "adapter_model.safetensors"),
                          [(k, dtype, v.numpy()) for k, v in lo.params()], {"format": "pt"})


def load_adapter(folder):
    """Reads a PEFT LoRA folder (infuse's or PEFT's): target_modules as a
    list of names or "all-linear"; tensors keyed as save_adapter writes."""
    with open(os.path.join(folder, "adapter_config.json")) as f:
        cfg = json.load(f)
    assert cfg["peft_type"] == "LORA", cfg["peft_type"]
    assert not cfg.get("use_dora") and not cfg.get("rank_pattern") and not cfg.get("alpha_pattern")
    tm = cfg["target_modules"]
    targets = TARGETS if tm == "all-linear" else ([tm] if isinstance(tm, str) else tm)
    assert all(t in TARGETS for t in targets), targets
    lo = Lora(int(cfg["r"]), float(cfg.get("lora_alpha", 8)), targets, bool(cfg.get("use_rslora", False)))
    tensors = ref.read_safetensors(os.path.join(folder, "adapter_model.safetensors"))
    pre = "base_model.model."
    for k, v in tensors.items():
        assert k.startswith(pre) and (k.endswith(".lora_A.weight") or k.endswith(".lora_B.weight")), k
        module, which = k[len(pre):-len(".lora_A.weight")], k[-8]
        assert module.rsplit(".", 1)[1] in lo.targets, k
        (lo.A if which == "A" else lo.B)[module] = torch.as_tensor(v.astype(np.float64))
    assert set(lo.A) == set(lo.B), "unpaired lora_A / lora_B"
    return lo, cfg


# --------------------------------------------------------------------------
# Loss, gradients, optimizer
# --------------------------------------------------------------------------

def batch_logits(model, tokens, lora=None):
    """[B, T, V]: every row run as its own sequence from position 0."""
    return torch.stack([ref.forward(model, row.tolist(), lora=lora) for row in tokens])


def batch_loss(model, tokens, mask, weights, lora=None):
    """(loss, logits [B, T, V]); see the module docstring for the formula."""
    tokens = torch.as_tensor(tokens, dtype=torch.long)
    logits = batch_logits(model, tokens, lora)
    logp = torch.log_softmax(logits[:, :-1], dim=-1)                       # predicts t = 1..T-1
    ce = -logp.gather(2, tokens[:, 1:, None])[..., 0]                      # [B, T-1]
    wm = torch.as_tensor(weights, dtype=torch.float64)[:, None] * torch.as_tensor(mask, dtype=torch.float64)[:, 1:]
    return (wm * ce).sum() / wm.sum(), logits


def lora_grads(model, lo, tokens, mask, weights):
    """(loss, {peft key: dL/d tensor}) with the base model frozen."""
    for m in lo.A:
        lo.A[m].requires_grad_(True)
        lo.B[m].requires_grad_(True)
    loss, _ = batch_loss(model, tokens, mask, weights, lo)
    params = lo.params()
    grads = torch.autograd.grad(loss, [p for _, p in params])
    for m in lo.A:
        lo.A[m] = lo.A[m].detach()
        lo.B[m] = lo.B[m].detach()
    return float(loss), {k: g for (k, _), g in zip(params, grads)}


def full_grads(model, tokens, mask, weights):
    """(loss, {HF name: dL/d weight}) of the base model, every parameter trained."""
    names = list(model.w)
    for k in names:
        model.w[k].requires_grad_(True)
    loss, _ = batch_loss(model, tokens, mask, weights)
    grads = torch.autograd.grad(loss, [model.w[k] for k in names])
    for k in names:
        model.w[k] = model.w[k].detach()
    return float(loss), dict(zip(names, grads))


def clip_grad_norm(grads, max_norm):
    """torch.nn.utils.clip_grad_norm_ (2-norm over all grads): every grad is
    multiplied by min(1, max_norm / (norm + 1e-6)).  Returns the norm
    before clipping; grads (a list of tensors) are scaled in place."""
    norm = math.sqrt(sum(float((g * g).sum()) for g in grads))
    coef = min(1.0, max_norm / (norm + 1e-6))
    for g in grads:
        g.mul_(coef)
    return norm


class AdamW:
    """torch.optim.AdamW (amsgrad off), for a list of float64 tensors."""

    def __init__(self, params, lr, betas, eps, weight_decay):
        self.lr, self.b1, self.b2, self.eps, self.wd = lr, betas[0], betas[1], eps, weight_decay
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def step(self, params, grads):
        """Updates params in place."""
        self.t += 1
        bc1, bc2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for p, g, m, v in zip(params, grads, self.m, self.v):
            p.mul_(1 - self.lr * self.wd)                 # decoupled weight decay
            m.mul_(self.b1).add_(g, alpha=1 - self.b1)
            v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)
            denom = (v.sqrt() / math.sqrt(bc2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / bc1)


def lora_train_steps(model, lo, batch, hp, n_steps):
    """n_steps of clip + AdamW on the same batch, from lo (not modified).
    Returns [(loss before the step, grad norm before clipping, {key: grad},
    {key: params after the step})] per step."""
    tokens, mask, weights = batch
    cur = Lora(lo.r, lo.alpha, lo.targets, lo.rslora)
    cur.A = {k: v.clone() for k, v in lo.A.items()}
    cur.B = {k: v.clone() for k, v in lo.B.items()}
    opt = AdamW([p for _, p in cur.params()], hp["lr"], (hp["beta1"], hp["beta2"]), hp["eps"], hp["weight_decay"])
    out = []
    for _ in range(n_steps):
        loss, g = lora_grads(model, cur, tokens, mask, weights)
        keys = [k for k, _ in cur.params()]
        raw = {k: g[k].clone() for k in keys}
        gl = [g[k] for k in keys]
        norm = clip_grad_norm(gl, hp["clip"])
        opt.step([p for _, p in cur.params()], gl)
        out.append((loss, norm, raw, {k: p.clone() for k, p in cur.params()}))
    return out


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    lg = sub.add_parser("logits", help="logits of MODEL_DIR with the adapter ADAPTER_DIR ('-' for none)")
    lg.add_argument("model_dir")
    lg.add_argument("adapter_dir")
    lg.add_argument("tokens", nargs="+", type=int)
    lg.add_argument("--out", help="write tokens and logits to this safetensors file instead of printing")
    args = ap.parse_args()
    torch.set_num_threads(1)
    model = ref.load_model(args.model_dir)
    lo = None
    if args.adapter_dir != "-":
        lo, _ = load_adapter(args.adapter_dir)
    logits = ref.forward(model, args.tokens, lora=lo)
    if args.out:
        ref.write_safetensors(args.out, [("tokens", "I32", np.array(args.tokens)),
                                         ("logits", "F32", logits.numpy())])
    else:
        np.set_printoptions(precision=7, suppress=True, linewidth=160, threshold=1 << 30)
        for t, row in zip(args.tokens, logits.numpy()):
            print(t, " ".join(f"{x:.7g}" for x in row))


if __name__ == "__main__":
    main()
