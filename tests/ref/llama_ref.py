"""Independent float64 reference for Llama-family decoders (Llama, Qwen2).

Written from the math of the Hugging Face LlamaForCausalLM / Qwen2ForCausalLM
architectures, without using transformers.  Everything is computed in float64
so that the numbers here are a reference for the C engine, not a competitor.

Contents
  * a hand-written safetensors reader / writer (F32, F16, BF16, I32)
  * float32 -> bfloat16 rounding (round to nearest even on the top 16 bits)
  * Config / load_model(folder) / forward(model, tokens[, lora]) -> logits [T, V]
  * greedy(model, tokens, n) -> (ids, logits)

Weight names are exactly Hugging Face's:
  model.embed_tokens.weight                       [V, H]
  model.layers.N.input_layernorm.weight           [H]
  model.layers.N.self_attn.q_proj.weight          [nh*hd, H]   (+ .bias, Qwen2)
  model.layers.N.self_attn.k_proj.weight          [nkv*hd, H]  (+ .bias, Qwen2)
  model.layers.N.self_attn.v_proj.weight          [nkv*hd, H]  (+ .bias, Qwen2)
  model.layers.N.self_attn.o_proj.weight          [H, nh*hd]
  model.layers.N.post_attention_layernorm.weight  [H]
  model.layers.N.mlp.gate_proj.weight             [I, H]
  model.layers.N.mlp.up_proj.weight               [I, H]
  model.layers.N.mlp.down_proj.weight             [H, I]
  model.norm.weight                               [H]
  lm_head.weight                                  [V, H]  (absent when tied)
"""

import json
import math
import os
import struct

import numpy as np
import torch

# --------------------------------------------------------------------------
# safetensors, by hand
#
# File layout: u64 little-endian N, then N bytes of UTF-8 JSON (padded with
# spaces to a multiple of 8), then the data.  Each tensor's data_offsets are
# [begin, end) relative to the first byte after the header.  Data is stored
# little-endian, row-major.
# --------------------------------------------------------------------------

_DTYPES = {  # safetensors name -> (numpy storage dtype, bytes per element)
    "F32": (np.dtype("<f4"), 4),
    "F16": (np.dtype("<f2"), 2),
    "BF16": (np.dtype("<u2"), 2),  # raw bits; see bf16_bits_to_f32
    "I32": (np.dtype("<i4"), 4),
}


def f32_to_bf16_bits(a):
    """float32 array -> uint16 bfloat16 bits, round to nearest, ties to even."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    lsb = (u >> 16) & 1
    r = ((u + 0x7FFF + lsb) >> 16).astype(np.uint16)
    nan = np.isnan(np.asarray(a, dtype=np.float32))
    if nan.any():  # keep NaNs NaN (quiet), rounding could carry into inf
        r[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return r


def bf16_bits_to_f32(b):
    """uint16 bfloat16 bits -> float32 array (exact)."""
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def round_to_dtype(a, dtype):
    """Round float32 values as storing them as `dtype` would; return float32."""
    a = np.asarray(a, dtype=np.float32)
    if dtype == "F32":
        return a.copy()
    if dtype == "F16":
        return a.astype(np.float16).astype(np.float32)  # numpy rounds RNE
    if dtype == "BF16":
        return bf16_bits_to_f32(f32_to_bf16_bits(a))
    raise ValueError(dtype)


def _encode(arr, dtype):
    if dtype == "F32":
        return np.ascontiguousarray(arr, dtype="<f4").tobytes()
    if dtype == "F16":
        return np.ascontiguousarray(arr, dtype=np.float32).astype("<f2").tobytes()
    if dtype == "BF16":
        return f32_to_bf16_bits(arr).astype("<u2").tobytes()
    if dtype == "I32":
        a = np.asarray(arr)
        assert np.all(a == a.astype(np.int32)), "I32 overflow"
        return np.ascontiguousarray(a, dtype="<i4").tobytes()
    raise ValueError(dtype)


def write_safetensors(path, tensors, metadata=None):
    """tensors: list of (name, dtype, array) in the order to store them.

    dtype is one of F32, F16, BF16, I32; float arrays are given as float32
    (or float64, converted to float32 first) and rounded when stored.
    """
    header = {}
    if metadata is not None:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, dtype, arr in tensors:
        assert name != "__metadata__" and name not in header, name
        arr = np.asarray(arr)
        if dtype != "I32":
            arr = arr.astype(np.float32)
        data = _encode(arr, dtype)
        header[name] = {"dtype": dtype, "shape": [int(s) for s in arr.shape],
                        "data_offsets": [off, off + len(data)]}
        blobs.append(data)
        off += len(data)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-len(h)) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read_safetensors(path, with_metadata=False):
    """Return {name: numpy array}; F16/BF16 come back as float32 (exact)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack_from("<Q", raw, 0)
    if n > len(raw) - 8:
        raise ValueError("header length beyond end of file")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    base = 8 + n
    meta = header.pop("__metadata__", {})
    out = {}
    for name, info in header.items():
        dt, size = _DTYPES[info["dtype"]]
        shape = tuple(info["shape"])
        b, e = info["data_offsets"]
        count = int(np.prod(shape)) if shape else 1
        if e - b != count * size or base + e > len(raw):
            raise ValueError(f"{name}: bad data_offsets {b},{e}")
        a = np.frombuffer(raw, dtype=dt, count=count, offset=base + b).reshape(shape)
        if info["dtype"] == "BF16":
            a = bf16_bits_to_f32(a)
        elif info["dtype"] == "F16":
            a = a.astype(np.float32)
        else:
            a = a.copy()
        out[name] = a
    return (out, meta) if with_metadata else out


def safetensors_dtypes(path):
    """{name: dtype string} from a file's header."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n).decode("utf-8"))
    header.pop("__metadata__", None)
    return {k: v["dtype"] for k, v in header.items()}


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------

class Config:
    def __init__(self, d):
        self.raw = d
        self.vocab_size = d["vocab_size"]
        self.hidden_size = d["hidden_size"]
        self.intermediate_size = d["intermediate_size"]
        self.num_hidden_layers = d["num_hidden_layers"]
        self.num_attention_heads = d["num_attention_heads"]
        self.num_key_value_heads = d.get("num_key_value_heads", self.num_attention_heads)
        self.head_dim = d.get("head_dim") or self.hidden_size // self.num_attention_heads
        self.rms_norm_eps = d.get("rms_norm_eps", 1e-6)
        self.rope_theta = d.get("rope_theta", 10000.0)
        self.tie_word_embeddings = d.get("tie_word_embeddings", False)
        assert d.get("hidden_act", "silu") == "silu"
        assert d.get("rope_scaling") is None, "rope_scaling not modelled"
        assert self.num_attention_heads % self.num_key_value_heads == 0


class Model:
    """Weights (float64 torch tensors, keyed by HF names) and a Config."""

    def __init__(self, cfg, weights):
        self.cfg = cfg
        self.w = {k: torch.as_tensor(np.asarray(v, dtype=np.float64)) for k, v in weights.items()}

    def lm_head(self):
        if "lm_head.weight" in self.w:
            return self.w["lm_head.weight"]
        assert self.cfg.tie_word_embeddings, "no lm_head.weight and not tied"
        return self.w["model.embed_tokens.weight"]


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = Config(json.load(f))
    weights = read_safetensors(os.path.join(folder, "model.safetensors"))
    return Model(cfg, weights)


def rms_norm(x, weight, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight


def rope_cos_sin(positions, head_dim, theta):
    """HF convention: inv_freq over even indices, angles concatenated twice."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    ang = positions.to(torch.float64)[:, None] * inv_freq[None, :]   # [T, hd/2]
    emb = torch.cat([ang, ang], dim=-1)                               # [T, hd]
    return emb.cos(), emb.sin()


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


def apply_rope(x, cos, sin):
    """x: [heads, T, hd]; cos/sin: [T, hd]."""
    return x * cos + rotate_half(x) * sin


def causal_mask(T):
    """[T, T] bool, True where key position > query position (masked out)."""
    return torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)


def expand_kv(kv, group):
    """GQA: query head j uses kv head j // group (HF repeat_kv)."""
    return kv.repeat_interleave(group, dim=0)


def linear(x, w, b=None):
    y = x @ w.T
    return y if b is None else y + b


def proj(w, module, x, lora=None):
    """The projection `module` (HF path without ".weight") applied to x, plus
    the LoRA update scale * (x A^T) B^T when lora adapts that module (PEFT's
    order: base output, bias included, then the low-rank term)."""
    y = linear(x, w[module + ".weight"], w.get(module + ".bias"))
    if lora is not None and module in lora.A:
        y = y + lora.scale * ((x @ lora.A[module].T) @ lora.B[module].T)
    return y


def forward(model, tokens, return_attn=False, lora=None):
    """Full-sequence causal forward from position 0. Returns logits [T, V] (float64).

    With return_attn, also returns a list (per layer) of attention
    probabilities [n_heads, T, T].  lora (train_ref.Lora: dicts A and B
    keyed by module path, and scale) adds the adapter's updates; dropout is
    not modelled (it is off at evaluation and in the fixtures).
    """
    c, w = model.cfg, model.w
    tokens = torch.as_tensor(list(tokens), dtype=torch.long)
    T = tokens.shape[0]
    nh, nkv, hd = c.num_attention_heads, c.num_key_value_heads, c.head_dim
    group = nh // nkv
    cos, sin = rope_cos_sin(torch.arange(T), hd, c.rope_theta)
    mask = causal_mask(T)                                              # True = hidden
    attns = []

    x = w["model.embed_tokens.weight"][tokens]                         # [T, H]
    for i in range(c.num_hidden_layers):
        p = f"model.layers.{i}."
        h = rms_norm(x, w[p + "input_layernorm.weight"], c.rms_norm_eps)
        q = proj(w, p + "self_attn.q_proj", h, lora)
        k = proj(w, p + "self_attn.k_proj", h, lora)
        v = proj(w, p + "self_attn.v_proj", h, lora)
        q = q.view(T, nh, hd).transpose(0, 1)                           # [nh, T, hd]
        k = k.view(T, nkv, hd).transpose(0, 1)                          # [nkv, T, hd]
        v = v.view(T, nkv, hd).transpose(0, 1)
        q = apply_rope(q, cos, sin)
        k = apply_rope(k, cos, sin)
        k = expand_kv(k, group)                                         # [nh, T, hd]
        v = expand_kv(v, group)
        scores = (q @ k.transpose(1, 2)) / math.sqrt(hd)                # [nh, T, T]
        scores = scores.masked_fill(mask, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        if return_attn:
            attns.append(probs)
        o = (probs @ v).transpose(0, 1).reshape(T, nh * hd)
        x = x + proj(w, p + "self_attn.o_proj", o, lora)
        h = rms_norm(x, w[p + "post_attention_layernorm.weight"], c.rms_norm_eps)
        g = proj(w, p + "mlp.gate_proj", h, lora)
        u = proj(w, p + "mlp.up_proj", h, lora)
        x = x + proj(w, p + "mlp.down_proj", torch.nn.functional.silu(g) * u, lora)
    x = rms_norm(x, w["model.norm.weight"], c.rms_norm_eps)
    logits = x @ model.lm_head().T
    return (logits, attns) if return_attn else logits


def greedy(model, tokens, n):
    """n greedy steps, recomputing the whole sequence each step.

    Returns (ids [n], logits [n, V]) where logits[i] chose ids[i].
    """
    seq = list(tokens)
    ids, rows = [], []
    for _ in range(n):
        last = forward(model, seq)[-1]
        t = int(torch.argmax(last))
        ids.append(t)
        rows.append(last)
        seq.append(t)
    return ids, torch.stack(rows)
