#!/usr/bin/python3
"""Write the tiny model fixtures under tests/fixtures/models/ (deterministic).

    /usr/bin/python3 tests/ref/make_model_fixtures.py [--out DIR] [--check-only]

Each model folder gets config.json, model.safetensors, tokenizer.json and
reference.safetensors (tokens, logits, greedy continuation, long-prompt
logits) computed by the float64 reference in llama_ref.py.  Before writing,
the script checks itself:
  * safetensors round trip, and bf16/f16 rounding against torch's casts;
  * the full-sequence forward against a separately written incremental
    decoder (KV cache, per-head loops, complex-number RoPE), to 1e-10;
  * that common implementation mistakes (interleaved RoPE, no RoPE, no
    causal mask, wrong GQA head mapping, wrong rope_theta) move the logits.
"""

import argparse
import cmath
import json
import math
import os
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep tests/ref free of __pycache__
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import llama_ref as ref  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
T_PROMPT, N_GREEDY, T_LONG = 24, 16, 200
# tied embeddings: a large embedding makes the model echo its last token, so
# tiny-gqa has smaller embeddings and larger residual writes
WEIGHT_SCALES = {"tiny-gqa": {"emb_std": 0.3, "out_std": 0.15},
                 "tiny-qwen-bias": {"emb_std": 0.5, "out_std": 0.1},
                 "tiny-headdim": {"emb_std": 0.5, "out_std": 0.1}}

# --------------------------------------------------------------------------
# Tokenizer: byte-level BPE, GPT-2 byte alphabet as ids 0..255 (id = byte
# value), then merges, then three special tokens.
# --------------------------------------------------------------------------

MERGES = [
    "Ġ t", "h e", "Ġ a", "i n", "Ġt he", "e r", "o n", "Ġ s", "e d", "Ġ w",
    "Ġ o", "r e", "n d", "Ġ b", "Ġ c", "a t", "Ġ f", "i s", "o u", "in g",
    "e n", "Ġ m", "e s", "Ġ p", "o r", "Ġ h", "a n", "l l", "Ġ d", "Ġa nd",
    "Ġ i", "a r", "Ġo f", "Ġ l", "Ġt o", "i t", "Ġ in", "Ġ T", "a s", "Ġw as",
]
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable unicode character table."""
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
          + list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def make_tokenizer():
    b2u = bytes_to_unicode()
    vocab = {b2u[b]: b for b in range(256)}
    for m in MERGES:
        a, b = m.split(" ")
        assert a in vocab and b in vocab, m
        assert a + b not in vocab, m
        vocab[a + b] = len(vocab)
    special_ids = {}
    added = []
    for s in SPECIALS:
        special_ids[s] = len(vocab) + len(added)
        added.append({"id": special_ids[s], "content": s, "single_word": False,
                      "lstrip": False, "rstrip": False, "normalized": False,
                      "special": True})
    tok = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False,
                          "trim_offsets": True, "use_regex": True},
        "post_processor": None,
        "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                    "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": list(MERGES)},
    }
    return tok, special_ids, len(vocab)


# --------------------------------------------------------------------------
# Model definitions and random weights
# --------------------------------------------------------------------------

def base_config(special_ids, **kw):
    eot = special_ids["<|endoftext|>"]
    d = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": eot,
        "eos_token_id": eot,
        "hidden_act": "silu",
        "initializer_range": 0.02,
        "max_position_embeddings": 256,
        "mlp_bias": False,
        "pretraining_tp": 1,
        "rope_scaling": None,
        "torch_dtype": "float32",
        "use_cache": True,
        "vocab_size": 320,
    }
    d.update(kw)
    return d


def model_configs(special_ids):
    gqa = base_config(special_ids, hidden_size=64, intermediate_size=160,
                      num_hidden_layers=3, num_attention_heads=4,
                      num_key_value_heads=2, tie_word_embeddings=True,
                      rope_theta=10000.0, rms_norm_eps=1e-5)
    qwen = base_config(special_ids, hidden_size=48, intermediate_size=128,
                       num_hidden_layers=2, num_attention_heads=6,
                       num_key_value_heads=2, tie_word_embeddings=False,
                       rope_theta=1000000.0, rms_norm_eps=1e-6,
                       max_position_embeddings=512)
    qwen["architectures"] = ["Qwen2ForCausalLM"]
    qwen["model_type"] = "qwen2"
    for k in ("attention_bias", "mlp_bias", "pretraining_tp"):
        del qwen[k]  # Qwen2 always has q/k/v bias; these keys are Llama's
    qwen.update({"sliding_window": None, "use_sliding_window": False,
                 "max_window_layers": 2})
    hd = base_config(special_ids, hidden_size=64, intermediate_size=128,
                     num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, head_dim=24, tie_word_embeddings=False,
                     rope_theta=500000.0, rms_norm_eps=1e-5)
    return {"tiny-gqa": gqa, "tiny-qwen-bias": qwen, "tiny-headdim": hd}


def make_weights(cfg_d, seed, bias, emb_std=0.5, out_std=0.1):
    """Ordered list of (name, float32 array), HF module order.

    emb_std scales the embeddings (and lm_head); out_std the o_proj and
    down_proj matrices, which write into the residual stream.
    """
    c = ref.Config(cfg_d)
    g = torch.Generator().manual_seed(seed)

    def normal(shape, std, mean=0.0):
        return (mean + std * torch.randn(*shape, generator=g, dtype=torch.float64)).float().numpy()

    H, I, V = c.hidden_size, c.intermediate_size, c.vocab_size
    nq, nkv = c.num_attention_heads * c.head_dim, c.num_key_value_heads * c.head_dim
    W = [("model.embed_tokens.weight", normal((V, H), emb_std))]
    for i in range(c.num_hidden_layers):
        p = f"model.layers.{i}."
        W.append((p + "input_layernorm.weight", normal((H,), 0.1, 1.0)))
        W.append((p + "self_attn.q_proj.weight", normal((nq, H), 0.15)))
        if bias:
            W.append((p + "self_attn.q_proj.bias", normal((nq,), 0.1)))
        W.append((p + "self_attn.k_proj.weight", normal((nkv, H), 0.15)))
        if bias:
            W.append((p + "self_attn.k_proj.bias", normal((nkv,), 0.1)))
        W.append((p + "self_attn.v_proj.weight", normal((nkv, H), 0.1)))
        if bias:
            W.append((p + "self_attn.v_proj.bias", normal((nkv,), 0.1)))
        W.append((p + "self_attn.o_proj.weight", normal((H, nq), out_std)))
        W.append((p + "post_attention_layernorm.weight", normal((H,), 0.1, 1.0)))
        W.append((p + "mlp.gate_proj.weight", normal((I, H), 0.1)))
        W.append((p + "mlp.up_proj.weight", normal((I, H), 0.1)))
        W.append((p + "mlp.down_proj.weight", normal((H, I), out_std)))
    W.append(("model.norm.weight", normal((H,), 0.1, 1.0)))
    if not c.tie_word_embeddings:
        W.append(("lm_head.weight", normal((V, H), emb_std)))
    return W


# --------------------------------------------------------------------------
# Self-check: a separately written incremental decoder
# (KV cache, token at a time, per-head Python loops, RoPE as complex rotation
# of the pairs (i, i + hd/2), explicit max-subtracted softmax).
# --------------------------------------------------------------------------

def incremental_logits(model, tokens):
    c, w = model.cfg, model.w
    nh, nkv, hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim
    half = hd // 2
    per_kv = nh // nkv
    cache = [([], []) for _ in range(c.num_hidden_layers)]  # per layer: keys, values per pos

    def norm(x, wt):
        ms = float((x * x).sum()) / x.shape[0]
        return x / math.sqrt(ms + c.rms_norm_eps) * wt

    def rotate(vec, pos):
        out = vec.clone()
        for i in range(half):
            f = c.rope_theta ** (-(2.0 * i) / hd)
            z = complex(float(vec[i]), float(vec[i + half])) * cmath.exp(1j * pos * f)
            out[i], out[i + half] = z.real, z.imag
        return out

    rows = []
    for pos, tok in enumerate(tokens):
        x = w["model.embed_tokens.weight"][tok].clone()
        for L in range(c.num_hidden_layers):
            p = f"model.layers.{L}."
            h = norm(x, w[p + "input_layernorm.weight"])
            proj = {}
            for n in "qkv":
                y = torch.mv(w[p + f"self_attn.{n}_proj.weight"], h)
                b = w.get(p + f"self_attn.{n}_proj.bias")
                proj[n] = y + b if b is not None else y
            keys, vals = cache[L]
            keys.append([rotate(proj["k"][j * hd:(j + 1) * hd], pos) for j in range(nkv)])
            vals.append([proj["v"][j * hd:(j + 1) * hd] for j in range(nkv)])
            heads = []
            for j in range(nh):
                kvh = j // per_kv
                qh = rotate(proj["q"][j * hd:(j + 1) * hd], pos)
                s = [float(torch.dot(qh, keys[t][kvh])) / math.sqrt(hd) for t in range(pos + 1)]
                m = max(s)
                e = [math.exp(si - m) for si in s]
                z = sum(e)
                o = torch.zeros(hd, dtype=torch.float64)
                for t in range(pos + 1):
                    o += (e[t] / z) * vals[t][kvh]
                heads.append(o)
            x = x + torch.mv(w[p + "self_attn.o_proj.weight"], torch.cat(heads))
            h = norm(x, w[p + "post_attention_layernorm.weight"])
            gt = torch.mv(w[p + "mlp.gate_proj.weight"], h)
            up = torch.mv(w[p + "mlp.up_proj.weight"], h)
            act = gt / (1.0 + torch.exp(-gt)) * up
            x = x + torch.mv(w[p + "mlp.down_proj.weight"], act)
        h = norm(x, w["model.norm.weight"])
        rows.append(torch.mv(model.lm_head(), h))
    return torch.stack(rows)


# --------------------------------------------------------------------------
# Mutation checks: the fixtures must be able to tell these mistakes apart.
# --------------------------------------------------------------------------

def _interleaved_rope(x, cos, sin):
    # GPT-J / Meta-original pairing (2i, 2i+1) with HF's frequency layout
    hd = x.shape[-1]
    c2, s2 = cos[:, : hd // 2], sin[:, : hd // 2]
    a, b = x[..., 0::2], x[..., 1::2]
    out = torch.empty_like(x)
    out[..., 0::2] = a * c2 - b * s2
    out[..., 1::2] = a * s2 + b * c2
    return out


def mutation_report(model, tokens):
    good = ref.forward(model, tokens)
    muts = {
        "interleaved_rope": ("apply_rope", _interleaved_rope),
        "no_rope": ("apply_rope", lambda x, cos, sin: x),
        "no_causal_mask": ("causal_mask", lambda T: torch.zeros(T, T, dtype=torch.bool)),
        "gqa_modulo_mapping": ("expand_kv", lambda kv, g: kv.repeat(g, 1, 1)),
    }
    out = {}
    for name, (attr, fn) in muts.items():
        saved = getattr(ref, attr)
        setattr(ref, attr, fn)
        try:
            out[name] = float((ref.forward(model, tokens) - good).abs().max())
        finally:
            setattr(ref, attr, saved)
    c = model.cfg
    saved_theta = c.rope_theta
    c.rope_theta = 10000.0 if saved_theta != 10000.0 else 500000.0
    out["wrong_rope_theta"] = float((ref.forward(model, tokens) - good).abs().max())
    c.rope_theta = saved_theta
    if model.cfg.num_key_value_heads == model.cfg.num_attention_heads:
        del out["gqa_modulo_mapping"]
    return out


def attention_report(model, tokens):
    """Mean normalised entropy (1 = uniform) and mean max prob vs 1/(t+1)."""
    _, attns = ref.forward(model, tokens, return_attn=True)
    T = len(tokens)
    ents, maxp, unif = [], [], []
    for probs in attns:
        for hh in range(probs.shape[0]):
            for t in range(1, T):
                p = probs[hh, t, : t + 1]
                ents.append(float(-(p * torch.log(p.clamp_min(1e-300))).sum()) / math.log(t + 1))
                maxp.append(float(p.max()))
                unif.append(1.0 / (t + 1))
    return {"mean_norm_entropy": float(np.mean(ents)), "mean_max_prob": float(np.mean(maxp)),
            "mean_uniform_prob": float(np.mean(unif))}


# --------------------------------------------------------------------------
# Checks of the safetensors code and the rounding
# --------------------------------------------------------------------------

def check_rounding(tmpdir):
    g = torch.Generator().manual_seed(7)
    a = torch.randn(100000, generator=g) * torch.exp(torch.randn(100000, generator=g) * 3)
    edge = torch.tensor([0.0, -0.0, 1.0, 65504.0, 65520.0, 1e-8, 6e-5, 3.0e38, float("inf"), -float("inf")])
    # exact bf16 ties: low 16 bits 0x8000, with even and odd kept lsb
    ties = torch.tensor(np.array([0x3F808000, 0x3F818000, 0xBF808000, 0x3F80FFFF, 0x7F7FFFFF],
                                 dtype=np.uint32).view(np.float32))
    a = torch.cat([a, edge, ties]).float()
    mine = ref.f32_to_bf16_bits(a.numpy())
    theirs = a.to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    assert np.array_equal(mine, theirs), "bf16 rounding differs from torch"
    with np.errstate(over="ignore"):  # 3e38 -> inf is part of the test
        f16 = ref.round_to_dtype(a.numpy(), "F16")
    assert np.array_equal(f16, a.half().float().numpy(), equal_nan=True), "f16 differs from torch"
    path = os.path.join(tmpdir, "roundtrip.tmp")
    t = [("b", "BF16", a.numpy()), ("a", "F32", a.numpy()[:7].reshape(7, 1)),
         ("h", "F16", a.numpy()[:10]), ("i", "I32", np.array([-1, 0, 2 ** 31 - 1], dtype=np.int64)),
         ("scalar", "F32", np.float32(2.5))]
    ref.write_safetensors(path, t, {"format": "pt"})
    back, meta = ref.read_safetensors(path, with_metadata=True)
    os.remove(path)
    assert meta == {"format": "pt"} and list(back) == ["b", "a", "h", "i", "scalar"]
    assert np.array_equal(back["b"], ref.round_to_dtype(a.numpy(), "BF16"), equal_nan=True)
    assert np.array_equal(back["a"], a.numpy()[:7].reshape(7, 1))
    assert np.array_equal(back["h"], f16[:10])
    assert back["i"].tolist() == [-1, 0, 2 ** 31 - 1] and back["scalar"].shape == ()
    print("rounding and safetensors round trip: ok")


# --------------------------------------------------------------------------

def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def pick_prompt(model, seed, n_ids, margin_min=0.05, distinct_min=6):
    """Deterministic prompt whose greedy steps all have a clear top-1 margin
    (so an fp32 engine cannot flip them) and do not just repeat one token;
    redraws with seed + 1000 * attempt otherwise."""
    for attempt in range(50):
        g = torch.Generator().manual_seed(seed + 1000 * attempt)
        toks = torch.randint(0, n_ids, (T_PROMPT,), generator=g).tolist()
        ids, lg = ref.greedy(model, toks, N_GREEDY)
        top2 = torch.topk(lg, 2, dim=-1).values
        margin = float((top2[:, 0] - top2[:, 1]).min())
        if margin >= margin_min and len(set(ids)) >= distinct_min:
            return toks, ids, lg, margin
    raise RuntimeError("no prompt with a clear greedy margin")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "fixtures", "models"))
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)  # bit-for-bit reproducible float64 results
    os.makedirs(args.out, exist_ok=True)
    check_rounding(args.out)

    tok, special_ids, n_tok = make_tokenizer()
    n_plain = n_tok - len(SPECIALS)  # prompts use byte and merge ids only
    print(f"tokenizer: {n_plain} BPE ids (256 bytes + {len(MERGES)} merges), specials {special_ids}")

    cfgs = model_configs(special_ids)
    variants = [("tiny-gqa", "tiny-gqa", "F32", 1), ("tiny-qwen-bias", "tiny-qwen-bias", "F32", 2),
                ("tiny-headdim", "tiny-headdim", "F32", 3),
                ("tiny-gqa-bf16", "tiny-gqa", "BF16", 1), ("tiny-gqa-f16", "tiny-gqa", "F16", 1)]
    summary = {}
    for name, base, dtype, seed in variants:
        cfg_d = dict(cfgs[base])
        if dtype != "F32":
            cfg_d["torch_dtype"] = {"BF16": "bfloat16", "F16": "float16"}[dtype]
        weights = make_weights(cfg_d, seed, bias=(base == "tiny-qwen-bias"), **WEIGHT_SCALES[base])
        stored = [(k, ref.round_to_dtype(v, dtype)) for k, v in weights]
        model = ref.Model(ref.Config(cfg_d), dict(stored))

        toks, gids, glog, margin = pick_prompt(model, 100 + seed, n_plain)
        logits = ref.forward(model, toks)
        g = torch.Generator().manual_seed(200 + seed)
        long_toks = torch.randint(0, n_plain, (T_LONG,), generator=g).tolist()
        long_logits = ref.forward(model, long_toks)
        long_last = long_logits[-1]

        # self-check 1: greedy logits equal the full forward of the extended sequence
        full = ref.forward(model, toks + gids)
        assert float((full[T_PROMPT - 1:-1] - glog).abs().max()) < 1e-10
        # self-check 2: separately written incremental decoder
        if dtype == "F32" or name == "tiny-gqa-bf16":
            inc = incremental_logits(model, toks + gids)
            err = float((inc - full).abs().max())
            assert err < 1e-10, (name, err)
            if base == "tiny-gqa" and dtype == "F32":
                inc_long = incremental_logits(model, long_toks)
                err_long = float((inc_long - long_logits).abs().max())
                assert err_long < 1e-10, (name, err_long)
                print(f"{name}: incremental decoder vs forward, long prompt: max err {err_long:.2e}")
            print(f"{name}: incremental decoder vs forward: max err {err:.2e}")

        att = attention_report(model, toks)
        mut = mutation_report(model, toks)
        mut_long = mutation_report(model, long_toks)
        info = {
            "max_abs_logit": float(logits.abs().max()),
            "logit_std": float(logits.std()),
            "long_last_max_abs": float(long_last.abs().max()),
            "greedy": gids,
            "min_greedy_margin": margin,
            "attention": att,
            "mutations_prompt": mut,
            "mutations_long": mut_long,
        }
        summary[name] = info
        print(f"{name}: tokens {toks}")
        print(f"  greedy {gids} (min top1-top2 margin {margin:.3f})")
        print(f"  max|logit| {info['max_abs_logit']:.3f}, std {info['logit_std']:.3f}, "
              f"long last max| | {info['long_last_max_abs']:.3f}")
        print(f"  attention: mean normalised entropy {att['mean_norm_entropy']:.3f} (1 = uniform), "
              f"mean max prob {att['mean_max_prob']:.3f} vs uniform {att['mean_uniform_prob']:.3f}")
        print("  mutation max|dlogit| prompt: " + ", ".join(f"{k} {v:.3f}" for k, v in mut.items()))
        print("  mutation max|dlogit| long:   " + ", ".join(f"{k} {v:.3f}" for k, v in mut_long.items()))
        for k, v in list(mut.items()) + list(mut_long.items()):
            assert v > 0.05, f"{name}: mutation {k} barely changes the logits ({v})"

        if args.check_only:
            continue
        d = os.path.join(args.out, name)
        os.makedirs(d, exist_ok=True)
        write_json(os.path.join(d, "config.json"), cfg_d)
        write_json(os.path.join(d, "tokenizer.json"), tok)
        ref.write_safetensors(os.path.join(d, "model.safetensors"),
                              [(k, dtype, v) for k, v in weights], {"format": "pt"})
        ref.write_safetensors(os.path.join(d, "reference.safetensors"), [
            ("tokens", "I32", np.array(toks)),
            ("logits", "F32", logits.numpy()),
            ("greedy", "I32", np.array(gids)),
            ("greedy_logits", "F32", glog.numpy()),
            ("tokens_long", "I32", np.array(long_toks)),
            ("logits_long_last", "F32", long_last.numpy()),
        ], {"generator": "tests/ref/make_model_fixtures.py", "precision": "float64 forward, stored F32",
            "weights_dtype": dtype})
        # the stored weights must be exactly the ones the reference used
        reloaded = ref.load_model(d)
        assert set(reloaded.w) == set(model.w)
        for k in model.w:
            assert torch.equal(reloaded.w[k], model.w[k]), k
        assert set(ref.safetensors_dtypes(os.path.join(d, "model.safetensors")).values()) == {dtype}
        assert torch.equal(ref.forward(reloaded, toks), logits)

    if not args.check_only:
        write_json(os.path.join(args.out, "SUMMARY.json"), summary)
    print("all self-checks passed")


if __name__ == "__main__":
    main()
