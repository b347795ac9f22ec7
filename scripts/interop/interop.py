#!/usr/bin/env python3
"""make interop: the LoRA files w2w writes, loaded by the loaders people use.

Builds the SD1.5 UNet and text encoder from their published configurations (the JSON files
beside this script) with random weights, nothing downloaded. Makes inputs in every convention
(kohya; LoCon, LoCon-CP, LoHa, LoHa-CP, LoKr, LoKr-CP made by lycoris-lora itself on that
UNet; PEFT; legacy diffusers; cloneofsimo) in F32, F16 and BF16, reduces each with the w2w
program (and edits some along a direction), then loads every result

  - with diffusers' load_lora_weights + fuse_lora (kohya and PEFT output layouts), and
  - with lycoris-lora's kohya-compatible create_network_from_weights (kohya layout),

and checks: no unexpected or missing keys, no shape mismatches, and for every module the
fused ΔW (weight after fusing minus before) equals the rank-1 ΔW of our file within 1e-5
relative (F32) or 5e-3 (F16, BF16). The adapted layers' base weights are zeroed before
fusing, so the difference is exact in their dtype. The reduction itself is checked too: our σ
against the top singular value of the input's ΔW as the reference code rebuilds it.

The last line of the output is one JSON object with the counts; the exit status is 1 when any
check failed.
"""

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time

import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
TOL = {"F32": 1e-5, "F16": 5e-3, "BF16": 5e-3}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def config(name):
    with open(os.path.join(HERE, name)) as f:
        return {k: v for k, v in json.load(f).items() if not k.startswith("_") and k != "architectures"}


def build_models(seed):
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(seed)
    unet = UNet2DConditionModel.from_config(config("sd15_unet_config.json")).eval()
    te = CLIPTextModel(CLIPTextConfig(**config("sd15_text_encoder_config.json"))).eval()
    unet.requires_grad_(False)
    te.requires_grad_(False)
    return unet, te


# ---------------------------------------------------------------- inputs in each convention

def kohya_name(prefix, path):
    return prefix + "_" + path.replace(".", "_")


def attn_modules(unet):
    """Linear layers of the UNet's transformer blocks and the 1x1 proj convs (kohya's LoRA)."""
    out = []
    for name, m in unet.named_modules():
        if ".attentions." not in name:
            continue
        if isinstance(m, torch.nn.Linear) or (isinstance(m, torch.nn.Conv2d) and m.kernel_size == (1, 1)):
            out.append((name, m))
    return out


def te_modules(te):
    return [(n, m) for n, m in te.named_modules() if isinstance(m, torch.nn.Linear) and (".self_attn." in n or ".mlp." in n)]


def factors(gen, m, r, std=0.1):
    """Random down [r, in(, kh, kw)] and up [out, r(, 1, 1)] factors for module m."""
    if isinstance(m, torch.nn.Conv2d):
        kh, kw = m.kernel_size
        down = torch.randn(r, m.in_channels, kh, kw, generator=gen) * std
        up = torch.randn(m.out_channels, r, 1, 1, generator=gen) * std
    else:
        down = torch.randn(r, m.in_features, generator=gen) * std
        up = torch.randn(m.out_features, r, generator=gen) * std
    return down, up


def make_kohya(unet, te, gen, r=4, alpha=2.0):
    sd = {}
    for prefix, mods in (("lora_unet", attn_modules(unet)), ("lora_te", te_modules(te))):
        for name, m in mods:
            down, up = factors(gen, m, r)
            k = kohya_name(prefix, name)
            sd[k + ".lora_down.weight"], sd[k + ".lora_up.weight"] = down, up
            sd[k + ".alpha"] = torch.tensor(alpha)
    return sd, {"ss_network_module": "networks.lora", "ss_network_dim": str(r), "ss_network_alpha": str(alpha), "ss_base_model_version": "sd_v1"}, None


def make_peft(unet, te, gen, r=4, alpha=8.0):
    sd = {}
    for prefix, mods in (("unet", attn_modules(unet)), ("text_encoder", te_modules(te))):
        for name, m in mods:
            down, up = factors(gen, m, r)
            sd[f"{prefix}.{name}.lora_A.weight"], sd[f"{prefix}.{name}.lora_B.weight"] = down, up
    cfg = {"peft_type": "LORA", "r": r, "lora_alpha": alpha, "target_modules": ["to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2"]}
    return sd, {"format": "pt"}, cfg


def make_diffusers(unet, te, gen, r=4):
    sd = {}
    for name, m in unet.named_modules():
        if name.endswith((".attn1", ".attn2")):
            for proj, lin in (("to_q", m.to_q), ("to_k", m.to_k), ("to_v", m.to_v), ("to_out", m.to_out[0])):
                down, up = factors(gen, lin, r)
                sd[f"{name}.processor.{proj}_lora.down.weight"], sd[f"{name}.processor.{proj}_lora.up.weight"] = down, up
    return sd, {"format": "pt"}, None


def make_cloneofsimo(unet, te, gen, r=4):
    """cloneofsimo/lora's save_safeloras layout: the injected linears numbered as its
    _find_modules meets them (ancestors of the target classes in model.modules() order, then
    each ancestor's named_modules())."""
    sd, meta = {}, {}
    for net, model, targets in (("unet", unet, {"CrossAttention", "Attention", "GEGLU"}), ("text_encoder", te, {"CLIPAttention", "CLIPSdpaAttention"})):
        meta[net] = json.dumps(sorted(targets))
        i = 0
        for anc in model.modules():
            if anc.__class__.__name__ not in targets:
                continue
            for _, m in anc.named_modules():
                if isinstance(m, torch.nn.Linear):
                    down, up = factors(gen, m, r)
                    sd[f"{net}:{i}:up"], sd[f"{net}:{i}:down"] = up, down
                    meta[f"{net}:{i}:rank"] = str(r)
                    i += 1
    return sd, meta, None


def lycoris_sd_targets():
    """lycoris-lora 4.1.3's "full" preset targets the class TimestepEmbedding (for Anima) and
    also names its layers time_embedding.linear_1/_2, so on diffusers' SD UNet both lists meet
    the same two layers and LycorisNetworkKohya asserts "duplicated lora name" (in
    create_network and in create_network_from_weights alike). Dropping the class keeps the same
    set of modules, each once."""
    import lycoris.config as lc
    import lycoris.kohya as lk

    for targets in (lc.FULL_UNET_MODULES, lk.LycorisNetworkKohya.UNET_TARGET_REPLACE_MODULE, lk.PRESET["full"].get("unet_target_module", [])):
        while "TimestepEmbedding" in targets:
            targets.remove("TimestepEmbedding")


def make_lycoris(unet, te, gen, algo, tucker, r=4, alpha=2.0):
    from lycoris.kohya import create_network

    lycoris_sd_targets()

    net = create_network(1.0, r, alpha, None, te, unet, algo=algo, conv_dim=r, conv_alpha=alpha, use_tucker=tucker, factor=4)
    sd = {}
    for mod in net.unet_loras + net.text_encoder_loras:
        for k, v in mod.state_dict().items():
            if k == "alpha":
                sd[f"{mod.lora_name}.alpha"] = v.detach().clone().float()
                continue
            sd[f"{mod.lora_name}.{k}"] = torch.randn(v.shape, generator=gen) * 0.3
    args = {"algo": algo, "conv_dim": str(r), "conv_alpha": str(alpha), "use_tucker": str(tucker)}
    return sd, {"ss_network_module": "lycoris.kohya", "ss_network_args": json.dumps(args), "ss_base_model_version": "sd_v1"}, None


CONVENTIONS = {
    "kohya": make_kohya,
    "locon": lambda u, t, g: make_lycoris(u, t, g, "lora", False),
    "locon-cp": lambda u, t, g: make_lycoris(u, t, g, "lora", True),
    "loha": lambda u, t, g: make_lycoris(u, t, g, "loha", False),
    "loha-cp": lambda u, t, g: make_lycoris(u, t, g, "loha", True),
    "lokr": lambda u, t, g: make_lycoris(u, t, g, "lokr", False),
    "lokr-cp": lambda u, t, g: make_lycoris(u, t, g, "lokr", True),
    "peft": make_peft,
    "diffusers": make_diffusers,
    "cloneofsimo": make_cloneofsimo,
}


def write_input(path, sd, meta, cfg, dtype):
    save_file({k: v.to(dtype).contiguous() for k, v in sd.items()}, path, metadata=meta)
    if cfg is not None:
        with open(os.path.join(os.path.dirname(path), "adapter_config.json"), "w") as f:
            json.dump(cfg, f)


# ---------------------------------------------------------------- the reference ΔW of inputs

REFERENCE_SKIPPED = []


def input_sigmas(path, unet, te, conv, sample=12):
    """Top singular values of a sample of the input's modules, ΔW rebuilt by the reference
    code: lycoris-lora's own modules for kohya-named files, plain up·down·scale otherwise."""
    out = {}
    if conv in ("peft", "diffusers", "cloneofsimo"):
        return out
    import lycoris.kohya as lk

    sd = load_file(path)
    names = sorted({k.split(".")[0] for k in sd if "." in k})
    mods = named_targets(unet, te)
    for name in names[:: max(1, len(names) // sample)]:
        typ, params = lk.get_module(sd, name)
        try:
            m = lk.make_module(typ, params, name, mods[name])
        except AttributeError as e:
            # lycoris-lora 4.1.3 cannot reload some LoKr-CP modules it wrote itself (Tucker
            # factors of a module it put in full-matrix mode: "no attribute lokr_w2_a"); the
            # σ check skips them and counts them.
            REFERENCE_SKIPPED.append(f"{name}: {e}")
            continue
        out[name] = top_sigma(lycoris_delta(m))
    return out


def lycoris_delta(m):
    """ΔW of a lycoris-lora module as its forward pass applies it (multiplier 1). For LoKr
    and LoHa this is get_weight(shape)·scalar: lycoris-lora 4.1.3's LokrModule and LohaModule
    get_diff_weight apply alpha/r twice (once inside the weight rebuild, once after), so it is
    not what inference uses."""
    from lycoris.modules.loha import LohaModule
    from lycoris.modules.lokr import LokrModule

    if isinstance(m, LokrModule):
        # Rebuilt from the module's own tensors with lycoris-lora's kron_weight: a Tucker module
        # in full-matrix mode holds lokr_w2 but get_weight asks for lokr_w2_a.
        from lycoris.functional.lokr import kron_weight

        g = lambda n: getattr(m, n, None)  # noqa: E731
        w2 = g("lokr_w2") if g("lokr_w2") is not None and (m.use_w2 or g("lokr_w2_a") is None) else None
        dw = kron_weight(g("lokr_w1") if m.use_w1 else None, None if m.use_w1 else g("lokr_w1_a"), None if m.use_w1 else g("lokr_w1_b"), w2, None if w2 is not None else g("lokr_w2_a"), None if w2 is not None else g("lokr_w2_b"), g("lokr_t2") if (m.tucker and w2 is None) else None, scale=m.scale)
        return (dw.reshape(m.shape) * m.scalar).float()
    if isinstance(m, LohaModule):
        return (m.get_weight(m.shape) * m.scalar).float()
    return m.get_diff_weight(multiplier=1)[0].float()


def named_targets(unet, te):
    mods = {kohya_name("lora_unet", n): m for n, m in unet.named_modules() if n}
    mods.update({kohya_name("lora_te", n): m for n, m in te.named_modules() if n})
    # transformers 5's CLIPTextModel has no text_model wrapper; the SD1.5 checkpoints' (and so
    # real kohya files') names keep it: lora_te_text_model_encoder_layers_…
    mods.update({kohya_name("lora_te_text_model", n): m for n, m in te.named_modules() if n and not n.startswith("text_model")})
    return mods


# ---------------------------------------------------------------- our rank-1 ΔW

class Rank1:
    """One module of a written rank-1 file: its stored factors; ΔW is rebuilt on demand (the
    whole file's ΔW at once would be the size of the UNet in float64)."""

    __slots__ = ("down", "up", "scale")

    def __init__(self, down, up, scale):
        self.down, self.up, self.scale = down, up, scale

    def delta(self):
        return (self.up.double().flatten(1) @ self.down.double().flatten(1)) * self.scale

    def shape(self):
        return (self.up.shape[0], self.down.flatten(1).shape[1])

    def sigma(self):
        # A rank-1 ΔW's one singular value: |scale|·‖up‖·‖down‖.
        return abs(self.scale) * torch.linalg.norm(self.up.double()).item() * torch.linalg.norm(self.down.double()).item()


def our_deltas(path):
    """Each module of a written rank-1 file, by kohya name, as its stored factors."""
    out = {}
    with safe_open(path, "pt") as f:
        keys = set(f.keys())
        peft = any(k.endswith(".lora_A.weight") for k in keys)
        for k in keys:
            if peft and k.endswith(".lora_A.weight"):
                base = k[: -len(".lora_A.weight")]
                down, up, scale = f.get_tensor(k), f.get_tensor(base + ".lora_B.weight"), 1.0
                comp, path_ = base.split(".", 1)
                name = kohya_name({"unet": "lora_unet", "text_encoder": "lora_te"}[comp], path_)
            elif not peft and k.endswith(".lora_down.weight"):
                name = k[: -len(".lora_down.weight")]
                down, up = f.get_tensor(k), f.get_tensor(name + ".lora_up.weight")
                scale = f.get_tensor(name + ".alpha").float().item() / down.shape[0]
            else:
                continue
            out[name] = Rank1(down, up, scale)
    return out


def top_sigma(dw):
    """The top singular value of a ΔW the reference code rebuilt: exact for narrow matrices,
    otherwise block subspace iteration (64 columns) run until σ₁ stops moving (1e-12
    relative). LoRA-family ΔW have low rank (at most r² = 16 here, below the block size), so
    the first range finder spans their range and σ₁ is exact to rounding."""
    m = dw.reshape(dw.shape[0], -1).double()
    if min(m.shape) <= 96:
        return torch.linalg.matrix_norm(m, ord=2).item()
    g = torch.Generator().manual_seed(0)
    q = torch.linalg.qr(m @ torch.randn(m.shape[1], 64, generator=g, dtype=m.dtype))[0]
    prev = 0.0
    for _ in range(100):
        s = torch.linalg.matrix_norm(q.T @ m, ord=2).item()
        if abs(s - prev) <= 1e-12 * s:
            break
        prev = s
        q = torch.linalg.qr(m @ (m.T @ q))[0]
    return s


# ---------------------------------------------------------------- the loaders

class LogCounter(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def weight_of(model, path):
    m = model.get_submodule(path)
    if hasattr(m, "base_layer"):
        m = m.base_layer
    return m.weight


def check_diffusers(path, unet, te, ours, tol):
    """Load with diffusers' load_lora_weights and fuse_lora; compare every fused ΔW."""
    from diffusers.loaders import StableDiffusionLoraLoaderMixin

    class Loader(StableDiffusionLoraLoaderMixin):
        hf_device_map = None  # a DiffusionPipeline's: no accelerate device map

        def __init__(self):
            self.unet, self.text_encoder = unet, te

        @property
        def components(self):
            return {"unet": self.unet, "text_encoder": self.text_encoder}

    res = {"unexpected": 0, "missing": 0, "shape_mismatches": 0, "modules": 0, "max_rel": 0.0, "errors": []}
    # Zero the adapted layers' base weights, so that fused weight = ΔW exactly. The base
    # weights' values play no part in any check (make_* and the loaders read shapes only), so
    # they are zeroed in place again after unloading instead of being saved and restored.
    targets = {}
    for name in ours:
        model, prefix = (unet, "lora_unet_") if name.startswith("lora_unet_") else (te, "lora_te_")
        if model is te and name.startswith("lora_te_text_model_") and "text_model" not in te._modules:
            prefix = "lora_te_text_model_"  # see named_targets
        targets[name] = (model, resolve_path(model, name[len(prefix):]))
        if targets[name][1] is None:
            res["unexpected"] += 1
            res["errors"].append(f"no module for {name}")
            continue
        with torch.no_grad():
            weight_of(model, targets[name][1]).zero_()
    h = LogCounter()
    for lg in ("diffusers", "peft"):
        logging.getLogger(lg).addHandler(h)
    pipe = Loader()
    try:
        pipe.load_lora_weights(path, adapter_name="w2w")
        pipe.fuse_lora(components=["unet", "text_encoder"], lora_scale=1.0)
    except Exception as e:  # shape mismatches and unconverted keys are raised
        msg = str(e)
        res["shape_mismatches"] += max(msg.count("size mismatch"), 1 if "shape" in msg or "size" in msg else 0)
        if not res["shape_mismatches"]:
            res["unexpected"] += 1
        res["errors"].append(msg[:300])
    finally:
        for lg in ("diffusers", "peft"):
            logging.getLogger(lg).removeHandler(h)
    for msg in h.messages:
        low = msg.lower()
        if "unexpected keys" in low or "missing keys" in low or "not found" in low or "could not" in low:
            res["unexpected" if "unexpected" in low or "not found" in low else "missing"] += 1
            res["errors"].append(msg[:300])
    if not res["errors"]:
        for name, r1 in ours.items():
            model, p = targets[name]
            dw = r1.delta()
            w = weight_of(model, p).detach().double().reshape(dw.shape)
            rel = (torch.linalg.norm(w - dw) / max(torch.linalg.norm(dw).item(), 1e-30)).item()
            res["max_rel"] = max(res["max_rel"], rel)
            res["modules"] += 1
    try:
        pipe.unfuse_lora()
        pipe.unload_lora_weights()
    except Exception as e:
        res["errors"].append("unload: " + str(e)[:200])
    with torch.no_grad():
        for model, p in targets.values():
            if p is not None:
                weight_of(model, p).zero_()
    res["ok"] = not res["errors"] and res["max_rel"] <= tol and res["modules"] == len(ours)
    return res


def resolve_path(model, under):
    """The dotted module path of a kohya name's underscore path, by walking the model."""
    parts = under.split("_")
    node, path = model, []
    i = 0
    while i < len(parts):
        for j in range(len(parts), i, -1):
            cand = "_".join(parts[i:j])
            child = node._modules.get(cand)
            if child is not None:
                node = child
                path.append(cand)
                i = j
                break
        else:
            return None
    return ".".join(path)


def check_lycoris(path, unet, te, ours, tol):
    """Load with lycoris-lora's kohya-compatible loader, module by module, so that each
    mismatch is counted; then once whole, as a user calls it."""
    import lycoris.kohya as lk

    lycoris_sd_targets()
    res = {"unexpected": 0, "missing": 0, "shape_mismatches": 0, "modules": 0, "max_rel": 0.0, "errors": []}
    sd = load_file(path)
    mods = named_targets(unet, te)
    names = sorted({k.split(".")[0] for k in sd if "." in k})
    for name in names:
        if name not in mods:
            res["unexpected"] += 1
            res["errors"].append(f"no module for {name}")
            continue
        try:
            typ, params = lk.get_module(sd, name)
            m = lk.make_module(typ, params, name, mods[name])
        except RuntimeError as e:
            res["shape_mismatches"] += 1
            res["errors"].append(f"{name}: {str(e)[:200]}")
            continue
        if m is None:
            res["missing"] += 1
            res["errors"].append(f"{name}: not recognised")
            continue
        dw = lycoris_delta(m).double()
        ref = ours[name].delta()
        rel = (torch.linalg.norm(dw.reshape(ref.shape) - ref) / max(torch.linalg.norm(ref).item(), 1e-30)).item()
        res["max_rel"] = max(res["max_rel"], rel)
        res["modules"] += 1
    try:
        net, _ = lk.create_network_from_weights(1.0, path, None, te, unet, weights_sd=sd)
        loaded = len(net.unet_loras) + len(net.text_encoder_loras)
        del net
        # create_network_from_weights names the stand-in model's own modules, so on
        # transformers 5's CLIPTextModel it cannot meet the SD checkpoints' text_model names
        # (see named_targets); those are checked module by module above.
        direct = {kohya_name("lora_unet", n) for n, _ in unet.named_modules() if n} | {kohya_name("lora_te", n) for n, _ in te.named_modules() if n}
        want = sum(1 for n in names if n in direct)
        if loaded != want:
            res["missing"] += want - loaded
            res["errors"].append(f"create_network_from_weights built {loaded} of {want} modules")
    except Exception as e:
        res["shape_mismatches"] += 1
        res["errors"].append("create_network_from_weights: " + str(e)[:200])
    res["ok"] = not res["errors"] and res["max_rel"] <= tol
    return res


# ---------------------------------------------------------------- the run

def w2w(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"w2w {' '.join(args)}: {out.stderr.strip()[-400:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--w2w", required=True, help="the w2w program")
    ap.add_argument("--work", default=None, help="scratch folder (default: a temporary one)")
    ap.add_argument("--conventions", default=",".join(CONVENTIONS))
    ap.add_argument("--dtypes", default="F32,F16,BF16")
    args = ap.parse_args()
    import diffusers
    import lycoris
    import peft
    import safetensors
    import transformers

    versions = {"torch": torch.__version__, "diffusers": diffusers.__version__, "peft": peft.__version__, "safetensors": safetensors.__version__, "transformers": transformers.__version__, "lycoris-lora": getattr(lycoris, "__version__", "4.1.3")}
    log("reference versions:", versions)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    t0 = time.time()
    unet, te = build_models(0)
    log(f"built SD1.5 UNet ({sum(p.numel() for p in unet.parameters())/1e6:.0f} M) and text encoder ({sum(p.numel() for p in te.parameters())/1e6:.0f} M) in {time.time()-t0:.0f} s")
    work = args.work or tempfile.mkdtemp(prefix="interop-")
    gen = torch.Generator().manual_seed(1)
    counts = {"inputs": 0, "outputs": 0, "loads": 0, "failed": 0, "unexpected_keys": 0, "missing_keys": 0, "shape_mismatches": 0, "modules_compared": 0, "max_rel_f32": 0.0, "max_rel_f16_bf16": 0.0, "max_sigma_rel_f32": 0.0, "max_sigma_rel_f16_bf16": 0.0}
    failures = []

    def record(label, loader, res, dt, started):
        counts["loads"] += 1
        counts["unexpected_keys"] += res["unexpected"]
        counts["missing_keys"] += res["missing"]
        counts["shape_mismatches"] += res["shape_mismatches"]
        counts["modules_compared"] += res["modules"]
        key = "max_rel_f32" if dt == "F32" else "max_rel_f16_bf16"
        counts[key] = max(counts[key], res["max_rel"])
        status = "ok" if res["ok"] else "FAIL"
        log(f"  {status} {loader:9s} {label}: {res['modules']} modules, max rel {res['max_rel']:.2e}, {time.time()-started:.1f} s" + (f"; {res['errors'][:2]}" if res["errors"] else ""))
        if not res["ok"]:
            counts["failed"] += 1
            failures.append(f"{loader} {label}")

    def check(label, out, dt, fmt, ours=None):
        counts["outputs"] += 1
        ours = ours if ours is not None else our_deltas(out)
        t = time.time()
        record(label, "diffusers", check_diffusers(out, unet, te, ours, TOL[dt]), dt, t)
        if fmt == "kohya":
            t = time.time()
            record(label, "lycoris", check_lycoris(out, unet, te, ours, TOL[dt]), dt, t)

    # A direction for the edits: four kohya LoRAs, two on each side.
    popdir = os.path.join(work, "population")
    os.makedirs(popdir, exist_ok=True)
    rows = ["file,label"]
    for i in range(4):
        sd, meta, _ = make_kohya(unet, te, gen)
        write_input(os.path.join(popdir, f"p{i}.safetensors"), sd, meta, None, torch.float32)
        rows.append(f"p{i}.safetensors,{1 if i < 2 else -1}")
    with open(os.path.join(work, "labels.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")
    direction = os.path.join(work, "direction.safetensors")
    w2w(args.w2w, "direction", "-loras", popdir, "-labels", os.path.join(work, "labels.csv"), "-components", "2", "-out", direction)

    for conv in args.conventions.split(","):
        sd, meta, cfg = CONVENTIONS[conv](unet, te, gen)
        for dt in args.dtypes.split(","):
            d = os.path.join(work, f"{conv}-{dt}")
            os.makedirs(d, exist_ok=True)
            src = os.path.join(d, "input.safetensors")
            write_input(src, sd, meta, cfg, DTYPES[dt])
            counts["inputs"] += 1
            label = f"{conv} {dt}"
            log(f"{label}: {len(sd)} tensors ({time.time()-t0:.0f} s)")
            try:
                out = os.path.join(d, "rank1.safetensors")
                w2w(args.w2w, "reduce", "-in", src, "-out", out, "-dtype", dt)
                mine_all = our_deltas(out)
                for name, s in input_sigmas(src, unet, te, conv).items():
                    mine = mine_all[name].sigma()
                    key = "max_sigma_rel_f32" if dt == "F32" else "max_sigma_rel_f16_bf16"
                    rel = abs(mine - s) / max(s, 1e-30)
                    if rel > (1e-4 if dt == "F32" else 2e-2):
                        log(f"  FAIL sigma {label} {name}: ours {mine:.6g}, reference {s:.6g}")
                    counts[key] = max(counts[key], rel)
                check(label + " reduce", out, dt, "kohya", mine_all)
                del mine_all
                if dt == "F32":
                    ed = os.path.join(d, "edited.safetensors")
                    w2w(args.w2w, "edit", "-in", src, "-direction", direction, "-alpha", "0.5", "-out", ed, "-dtype", dt)
                    check(label + " edit", ed, dt, "kohya")
                    pd = os.path.join(d, "peft")
                    os.makedirs(pd, exist_ok=True)
                    po = os.path.join(pd, "pytorch_lora_weights.safetensors")
                    w2w(args.w2w, "reduce", "-in", src, "-out", po, "-dtype", dt, "-format", "peft")
                    check(label + " reduce -format peft", po, dt, "peft")
            except Exception as e:
                counts["failed"] += 1
                failures.append(f"{label}: {str(e)[:300]}")
                log(f"  FAIL {label}: {e}")
                import traceback

                log(traceback.format_exc(limit=-3))
    counts["seconds"] = round(time.time() - t0)
    counts["reference_modules_unloadable"] = len(REFERENCE_SKIPPED)
    counts["peak_rss_gib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 1)
    counts["versions"] = versions
    if failures:
        counts["failures"] = failures[:20]
    ok = counts["failed"] == 0 and counts["unexpected_keys"] == 0 and counts["missing_keys"] == 0 and counts["shape_mismatches"] == 0 and counts["max_sigma_rel_f32"] <= 1e-4 and counts["max_sigma_rel_f16_bf16"] <= 2e-2
    counts["ok"] = ok
    print(json.dumps(counts, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
