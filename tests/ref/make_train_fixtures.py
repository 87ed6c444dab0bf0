#!/usr/bin/python3
"""Write the training fixtures under tests/fixtures/train/ (deterministic).

    /usr/bin/python3 tests/ref/make_train_fixtures.py [--out DIR] [--check-only]

For each case below, a folder with
  adapter/                  a LoRA adapter in PEFT's layout, random non-zero B
  reference.safetensors     a padded batch, the adapted model's loss, logits
                            and LoRA gradients, and two clip + AdamW steps
  full_grads.safetensors    (full cases) the base model's loss and the
                            gradient of every model parameter
computed by train_ref.py in float64.  Before writing, the script checks
itself: LoRA forward against merged weights, the loss against a plain
per-token loop, padding and mask[:, 0] invariance, every kind of gradient
against central finite differences, clipping and AdamW against torch's own,
and the adapter folder round trip.
"""

import argparse
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep tests/ref free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref as ref  # noqa: E402
import train_ref as tr  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODELS = os.path.join(ROOT, "tests", "fixtures", "models")

HP = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01, "clip": 1.0}
N_STEPS = 2

# name, model, lengths of the rows (T = the longest), LoRA (r, alpha, targets, rslora), seed, full grads
CASES = [
    ("tiny-gqa", "tiny-gqa", [14, 10, 6], (4, 8.0, tr.TARGETS, False), 11, True),
    ("tiny-qwen-bias", "tiny-qwen-bias", [16, 9], (4, 8.0, tr.TARGETS, False), 12, True),
    # a subset of targets, rsLoRA, head_dim * heads != hidden
    ("tiny-headdim-qvd-rslora", "tiny-headdim", [12, 12, 5], (2, 6.0, ["q_proj", "v_proj", "down_proj"], True),
     13, False),
]
B_STD = 0.1  # std of the random lora_B


def make_batch(lengths, seed, n_ids):
    """tokens [B, T] (padding 0 past each length), mask, weights.

    The mask leaves a prompt (row 0) and a gap (row 1) out of the loss and
    sets mask[1, 0] = 1, which must be ignored (token 0 has no prediction)."""
    g = torch.Generator().manual_seed(seed)
    B, T = len(lengths), max(lengths)
    tokens = torch.zeros(B, T, dtype=torch.long)
    mask = torch.zeros(B, T, dtype=torch.long)
    for b, n in enumerate(lengths):
        tokens[b, :n] = torch.randint(0, n_ids, (n,), generator=g)
        mask[b, 1:n] = 1
    mask[0, :5] = 0
    if B > 1:
        mask[1, 4:6] = 0
        mask[1, 0] = 1
    weights = torch.tensor([1.0, 2.5, 0.5][:B], dtype=torch.float64)
    return tokens, mask, weights


# --------------------------------------------------------------------------
# Self-checks
# --------------------------------------------------------------------------

def loop_loss(model, tokens, mask, weights, lora=None):
    """The loss written as a plain loop over targets, with its own log-sum-exp."""
    num = den = 0.0
    for b in range(tokens.shape[0]):
        lg = ref.forward(model, tokens[b].tolist(), lora=lora).detach().numpy()
        for t in range(1, tokens.shape[1]):
            if mask[b, t]:
                row = lg[t - 1]
                mx = row.max()
                lse = mx + math.log(np.exp(row - mx).sum())
                w = float(weights[b])
                num += w * (lse - row[int(tokens[b, t])])
                den += w
    return num / den


def merged_model(model, lo):
    """The base model with W + scale * B A folded in (the other way to apply a LoRA)."""
    w = {k: v.clone() for k, v in model.w.items()}
    for m in lo.A:
        w[m + ".weight"] = w[m + ".weight"] + lo.scale * (lo.B[m] @ lo.A[m])
    out = ref.Model(model.cfg, {})
    out.w = w
    return out


def fd_check(what, loss_fn, tensors, grads, rng, picks=2, h=1e-5):
    """Central differences at a few entries of each tensor against autograd."""
    worst = 0.0
    for k, t in tensors.items():
        flat = t.view(-1)
        idx = [int(i) for i in rng.choice(flat.numel(), size=min(picks, flat.numel()), replace=False)]
        nz = torch.nonzero(grads[k].reshape(-1)).flatten()
        if len(nz):  # and one entry the batch certainly reaches (embedding rows)
            idx.append(int(nz[rng.integers(len(nz))]))
        for i in idx:
            old = float(flat[i])
            flat[i] = old + h
            up = loss_fn()
            flat[i] = old - h
            dn = loss_fn()
            flat[i] = old
            fd, ad = (up - dn) / (2 * h), float(grads[k].reshape(-1)[i])
            err = abs(fd - ad) / (1e-6 + abs(ad))
            assert abs(fd - ad) < 1e-7 + 1e-5 * abs(ad), f"{what} {k}[{i}]: autograd {ad} vs fd {fd}"
            worst = max(worst, err)
    print(f"  {what}: autograd vs finite differences over {len(tensors)} tensors, worst rel {worst:.1e}")


def check_optimizer(lo, grads_per_step):
    """clip_grad_norm and AdamW against torch.nn.utils.clip_grad_norm_ and
    torch.optim.AdamW, over the steps' gradients."""
    mine = [p.clone() for _, p in lo.params()]
    theirs = [torch.nn.Parameter(p.clone()) for _, p in lo.params()]
    opt_m = tr.AdamW(mine, HP["lr"], (HP["beta1"], HP["beta2"]), HP["eps"], HP["weight_decay"])
    opt_t = torch.optim.AdamW(theirs, lr=HP["lr"], betas=(HP["beta1"], HP["beta2"]), eps=HP["eps"],
                              weight_decay=HP["weight_decay"])
    for scale in grads_per_step:
        g = [torch.randn_like(p) * scale for p in mine]  # norms above and below the clip
        gm = [x.clone() for x in g]
        n_m = tr.clip_grad_norm(gm, HP["clip"])
        for p, x in zip(theirs, g):
            p.grad = x.clone()
        n_t = float(torch.nn.utils.clip_grad_norm_(theirs, HP["clip"]))
        assert abs(n_m - n_t) < 1e-12 * n_t
        opt_m.step(mine, gm)
        opt_t.step()
        d = max(float((a - b.detach()).abs().max()) for a, b in zip(mine, theirs))
        assert d < 1e-15, f"AdamW differs from torch by {d}"
    print(f"  clip_grad_norm and AdamW agree with torch over {len(grads_per_step)} steps")


def self_check(model, lo, batch, lengths, tmpdir):
    tokens, mask, weights = batch
    loss, logits = tr.batch_loss(model, tokens, mask, weights, lo)
    # the loss formula, written another way
    d = abs(float(loss) - loop_loss(model, tokens, mask, weights, lo))
    assert d < 1e-12, f"loss vs loop: {d}"
    # the adapter's updates, applied as merged weights instead
    d = float((tr.batch_logits(merged_model(model, lo), tokens) - logits).abs().max())
    assert d < 1e-10, f"LoRA vs merged weights: {d}"
    # ... and they do something
    base_loss, base_logits = tr.batch_loss(model, tokens, mask, weights)
    moved = float((base_logits - logits).abs().max())
    assert moved > 0.1, f"the adapter barely moves the logits ({moved})"
    # padding and mask[:, 0] do not matter
    t2, m2 = tokens.clone(), mask.clone()
    for b, n in enumerate(lengths):
        t2[b, n:] = 7
    m2[:, 0] = 1 - m2[:, 0]
    l2, lg2 = tr.batch_loss(model, t2, m2, weights, lo)
    assert abs(float(l2 - loss)) < 1e-14, "padding or mask[:, 0] changed the loss"
    # the weights matter
    l3, _ = tr.batch_loss(model, tokens, mask, torch.ones_like(weights), lo)
    assert abs(float(l3 - loss)) > 1e-4, "row weights have no effect"
    print(f"  loss {float(loss):.6f} (base {float(base_loss):.6f}); adapter moves logits by up to {moved:.3f}")

    rng = np.random.default_rng(0)
    _, g = tr.lora_grads(model, lo, tokens, mask, weights)
    tensors = dict(lo.params())
    fd_check("LoRA grads", lambda: float(tr.batch_loss(model, tokens, mask, weights, lo)[0]), tensors, g, rng)
    _, fg = tr.full_grads(model, tokens, mask, weights)
    fd_check("full grads", lambda: float(tr.batch_loss(model, tokens, mask, weights)[0]), model.w, fg, rng, picks=1)
    check_optimizer(lo, [0.01, 10.0, 1.0, 0.001])

    # the adapter folder round trip
    path = os.path.join(tmpdir, "adapter")
    tr.save_adapter(lo, path, "x")
    back, _ = tr.load_adapter(path)
    assert back.scale == lo.scale and back.targets == lo.targets
    assert all(torch.equal(back.A[m], lo.A[m]) and torch.equal(back.B[m], lo.B[m]) for m in lo.A)
    shutil.rmtree(path)


# --------------------------------------------------------------------------

def f32(x):
    return np.asarray(x, dtype=np.float64).astype(np.float32)


def make_case(name, model_name, lengths, lora_spec, seed, with_full, out_dir, check_only, tmpdir):
    print(f"{name}:")
    mdir = os.path.join(MODELS, model_name)
    model = ref.load_model(mdir)
    cfg = model.cfg
    r, alpha, targets, rslora = lora_spec
    lo = tr.lora_init(cfg, r, alpha, targets, seed, B_STD, rslora)
    batch = make_batch(lengths, seed, 296)  # byte and merge ids (296.. are specials)
    tokens, mask, weights = batch
    self_check(model, lo, batch, lengths, tmpdir)

    loss, logits = tr.batch_loss(model, tokens, mask, weights, lo)
    base_loss, _ = tr.batch_loss(model, tokens, mask, weights)
    steps = tr.lora_train_steps(model, lo, batch, HP, N_STEPS)
    assert abs(steps[0][0] - float(loss)) < 1e-14
    norms = [s[1] for s in steps]
    print(f"  grad norm before clipping: {', '.join(f'{n:.4f}' for n in norms)} (clip {HP['clip']}); "
          f"loss after the steps {float(tr.batch_loss(model, tokens, mask, weights, _lora_of(lo, steps[-1][3]))[0]):.6f}")
    if check_only:
        return

    d = os.path.join(out_dir, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    tr.save_adapter(lo, os.path.join(d, "adapter"), f"tests/fixtures/models/{model_name}")
    B, T = tokens.shape
    meta = {
        "model": f"tests/fixtures/models/{model_name}",
        "adapter": "adapter/ (PEFT layout)",
        "loss": "sum_bt w[b] mask[b,t] CE(logits[b,t-1], tokens[b,t]) / sum_bt w[b] mask[b,t]; mask[:,0] ignored",
        "rows": "each row its own sequence from position 0; padding (token 0) past lengths[b], masked",
        "r": str(r), "lora_alpha": repr(alpha), "use_rslora": str(rslora).lower(), "scale": repr(lo.scale),
        "target_modules": ",".join(lo.targets), "lora_dropout": "0",
        "optimizer": "clip_grad_norm_(max_norm=clip) then torch.optim.AdamW, on the same batch each step",
        "lr": repr(HP["lr"]), "beta1": repr(HP["beta1"]), "beta2": repr(HP["beta2"]), "eps": repr(HP["eps"]),
        "weight_decay": repr(HP["weight_decay"]), "clip": repr(HP["clip"]), "steps": str(N_STEPS),
    }
    t = [("tokens", "I32", tokens.numpy()), ("mask", "I32", mask.numpy()),
         ("weights", "F32", f32(weights)), ("lengths", "I32", np.array(lengths)),
         ("loss", "F32", f32([float(loss)])), ("loss_base", "F32", f32([float(base_loss)])),
         ("logits", "F32", f32(logits.detach())),
         ("step_loss", "F32", f32([s[0] for s in steps])), ("grad_norm", "F32", f32(norms))]
    keys = [k for k, _ in lo.params()]
    t += [(k + ".grad", "F32", f32(steps[0][2][k])) for k in keys]
    for i, s in enumerate(steps):
        t += [(f"{k}.step{i + 1}", "F32", f32(s[3][k])) for k in keys]
    ref.write_safetensors(os.path.join(d, "reference.safetensors"), t, meta)
    if with_full:
        fl, fg = tr.full_grads(model, tokens, mask, weights)
        assert abs(fl - float(base_loss)) < 1e-14
        t = [("tokens", "I32", tokens.numpy()), ("mask", "I32", mask.numpy()),
             ("weights", "F32", f32(weights)), ("loss", "F32", f32([fl]))]
        t += [(k + ".grad", "F32", f32(g)) for k, g in fg.items()]
        fmeta = {"model": meta["model"], "loss": meta["loss"], "rows": meta["rows"],
                 "grads": "of the base model's loss (no adapter), every parameter; tied embeddings: one grad"}
        ref.write_safetensors(os.path.join(d, "full_grads.safetensors"), t, fmeta)
    for f in sorted(os.listdir(d)):
        p = os.path.join(d, f)
        print(f"  wrote {p[len(ROOT) + 1:]}" + ("" if os.path.isdir(p) else f" ({os.path.getsize(p)} bytes)"))


def _lora_of(like, params):
    lo = tr.Lora(like.r, like.alpha, like.targets, like.rslora)
    for m in like.A:
        lo.A[m] = params[tr.peft_key(m, "A")]
        lo.B[m] = params[tr.peft_key(m, "B")]
    return lo


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "train"))
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)  # bit-for-bit reproducible float64 results
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmpdir:
        for case in CASES:
            make_case(*case, args.out, args.check_only, tmpdir)
    print("all self-checks passed")


if __name__ == "__main__":
    main()
