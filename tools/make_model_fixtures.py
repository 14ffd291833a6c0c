#!/usr/bin/python3
"""Writes the PyTorch fixtures of kpt's whole-model parity tests (tests/reference/models_reference_test.cpp).

Run from anywhere:  tools/make_model_fixtures.py [--out DIR]   (default: tests/data/models)
Needs torch and numpy (/usr/bin/python3). CI never runs it; its output is committed. Deterministic:
each case seeds torch itself, so a re-run rewrites identical files.

The networks are tools/torch_models.py (our own PyTorch twins of kpt's models, same state_dict
keys) at narrow widths, so the files stay small. Per case folder <out>/<case>/:
  weights.safetensors  the float32 state_dict, written as .pth by torch.save and converted by
                       tools/pth_to_safetensors.py (so the converter is exercised too); the KP2D
                       cases go through a KP2D-style checkpoint {'state_dict': ..., 'epoch': 3}
  x.npy                the input (float32): gray [1,1,64,80] in [0,1] for SuperPoint, RGB
                       [1,3,64,80] in [0,1] for KeyPointNet (the model normalises it as KP2D does:
                       normalize_input), [2,5,300,1] for IO-Net
  R_<out>.npy          float32 seeds, one per output
  <out>.npy            outputs (float64): semi, desc | score, coord, desc | logits
  dx.npy               (some cases) d loss / d x (float64), loss = sum over outputs of sum(<out> * R_<out>)
  grads.safetensors    d loss / d p for every trainable parameter p, F64, keyed by state_dict name
  after.safetensors    the buffers after the forward (running_mean/var F64, num_batches_tracked I64)
                       (train-mode BatchNorm updates them; eval leaves them)
  params.json          {"training": bool, ...}
References are computed by torch in float64 from the float32-representable inputs and weights.
"""
import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_models as tm  # noqa: E402
from pth_to_safetensors import read_safetensors, write_safetensors  # noqa: E402

ROOT = os.path.normpath(os.path.join(HERE, "..", "tests", "data", "models"))
CONVERTER = os.path.join(HERE, "pth_to_safetensors.py")

# Narrow widths (the C++ test defines the same configs).
SP = dict(widths=(4, 6, 8, 12), head_width=16, descriptor_size=10)
KP = dict(widths=(4, 6, 8, 12), head_width=10, upsample_width=16, descriptor_size=6)
IO = dict(width=12, blocks=4)

written = []


def note(path):
    written.append((path, os.path.getsize(path)))


def save_npy(folder, name, t):
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    path = os.path.join(folder, name + ".npy")
    np.save(path, np.array(a, order="C", copy=True), allow_pickle=False)
    note(path)


def f32(*shape, lo=None, hi=None, scale=1.0, seed=None):
    """float32 random values as float64; with `seed`, drawn from their own generator, so that the
    inputs and seeds of equal shape are the same bytes in every case (git stores them once)."""
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    if lo is not None:
        t = torch.rand(*shape, dtype=torch.float32, generator=g) * (hi - lo) + lo
    else:
        t = torch.randn(*shape, dtype=torch.float32, generator=g) * scale
    return t.double()


def randomise(net):
    """Weights that keep activations O(1) (He-normal convs, biases ~0.1) and non-trivial BatchNorm
    state (affine away from 1/0, running stats away from 0/1, num_batches_tracked 5), all float32."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.Conv2d):
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape) * math.sqrt(2.0 / fan_in))
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape) * 0.1)
            elif isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape) * 0.2)
                m.running_mean.copy_(torch.randn(m.running_mean.shape) * 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape) * 1.5 + 0.5)
                m.num_batches_tracked.fill_(5)
    return net


def weights_through_converter(net, folder, tmp, case, checkpoint):
    """torch.save -> tools/pth_to_safetensors.py -> weights.safetensors; returns what the file holds."""
    sd = net.float().state_dict()
    pth = os.path.join(tmp, case + ".pth")
    torch.save({"state_dict": sd, "epoch": 3} if checkpoint else sd, pth)
    dst = os.path.join(folder, "weights.safetensors")
    subprocess.run([sys.executable, CONVERTER, pth, dst], check=True, stdout=subprocess.DEVNULL)
    note(dst)
    tensors, _ = read_safetensors(dst)
    assert set(tensors) == set(sd), "the converter changed the key set"
    for k, v in sd.items():
        assert torch.equal(tensors[k], v), f"the converter changed '{k}'"
    return tensors


def run_case(out, tmp, case, seed, make_net, make_input, forward, out_names, training, checkpoint=False, with_dx=False):
    folder = os.path.join(out, case)
    os.makedirs(folder)
    torch.manual_seed(seed)
    net = randomise(make_net())
    stored = weights_through_converter(net, folder, tmp, case, checkpoint)

    # The float64 twin holds exactly the stored float32 values.
    ref = make_net().double()
    ref.load_state_dict({k: (v.double() if v.is_floating_point() else v) for k, v in stored.items()}, strict=True)
    ref.train(training)

    x = make_input()
    xl = x.clone().requires_grad_(True)
    outs = forward(ref, xl)
    assert len(outs) == len(out_names)
    Rs = [f32(*o.shape, seed=50 + i) for i, o in enumerate(outs)]
    loss = sum((o * R).sum() for o, R in zip(outs, Rs))
    loss.backward()

    save_npy(folder, "x", x.float())
    for name, o, R in zip(out_names, outs, Rs):
        save_npy(folder, name, o.detach().double())
        save_npy(folder, "R_" + name, R.float())
    if with_dx:  # (only a few cases: an RGB dx is the largest file of a case)
        save_npy(folder, "dx", xl.grad.double())
    grads = {n: (p.grad if p.grad is not None else torch.zeros_like(p)).detach().double().contiguous()
             for n, p in ref.named_parameters()}
    write_safetensors(os.path.join(folder, "grads.safetensors"), grads)
    note(os.path.join(folder, "grads.safetensors"))
    params = dict(p for p in ref.named_parameters())
    after = {n: b.detach().clone().contiguous() for n, b in ref.state_dict().items() if n not in params}
    if after:
        write_safetensors(os.path.join(folder, "after.safetensors"), after)
        note(os.path.join(folder, "after.safetensors"))
    info = {"training": training, "outputs": out_names, "parameters": len(grads), "buffers": len(after),
            "dx": with_dx}
    with open(os.path.join(folder, "params.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)
        f.write("\n")
    note(os.path.join(folder, "params.json"))


def gray_image():
    return f32(1, 1, 64, 80, lo=0.0, hi=1.0, seed=40)


def rgb_image():
    return f32(1, 3, 64, 80, lo=0.0, hi=1.0, seed=41)


def sp_forward(net, x):
    return list(net(x))


def kp_forward(color):
    return lambda net, rgb: list(net(tm.kp2d_normalize(rgb, color)))


def io_input():
    # [u_s, v_s, u_t, v_t] in [-1, 1], descriptor distance in [0, 2] (SPEC 5.2).
    uv = f32(2, 4, 300, 1, lo=-1.0, hi=1.0, seed=42)
    d = f32(2, 1, 300, 1, lo=0.0, hi=2.0, seed=43)
    return torch.cat([uv, d], 1)


def make_all(out, tmp):
    sp = lambda desc: (lambda: tm.SuperPointNet(descriptor_head=desc, **SP))  # noqa: E731
    spbn = lambda desc: (lambda: tm.SuperPointBN(descriptor_head=desc, **SP))  # noqa: E731
    kp = lambda **kw: (lambda: tm.KeypointNet(**KP, **kw))  # noqa: E731
    run_case(out, tmp, "superpoint", 1000, sp(True), gray_image, sp_forward, ["semi", "desc"], True,
             with_dx=True)
    run_case(out, tmp, "superpoint_bn", 1001, spbn(True), gray_image, sp_forward, ["semi", "desc"], True)
    run_case(out, tmp, "magicpoint", 1002, sp(False), gray_image, sp_forward, ["semi"], True)
    run_case(out, tmp, "magicpoint_bn_eval", 1003, spbn(False), gray_image, sp_forward, ["semi"], False)
    names = ["score", "coord", "desc"]
    # Train mode with dropout off (a random mask cannot be matched), V4 switches otherwise.
    run_case(out, tmp, "keypointnet_train", 1010, kp(with_drop=False), rgb_image, kp_forward(True), names, True,
             checkpoint=True, with_dx=True)
    # Eval mode with dropout on: eval must switch it off; descriptors sampled at the keypoints.
    run_case(out, tmp, "keypointnet_eval", 1011, kp(with_drop=True), rgb_image, kp_forward(True), names, False,
             checkpoint=True)
    run_case(out, tmp, "keypointnet_gray_train", 1012, kp(use_color=False, with_drop=False), rgb_image,
             kp_forward(False), names, True, checkpoint=True)
    # V0 (no upsampling, no cross-border) in train mode, V1 (no upsampling, cross-border) in eval.
    run_case(out, tmp, "keypointnet_v0_train", 1013, kp(do_upsample=False, do_cross=False, with_drop=False),
             rgb_image, kp_forward(True), names, True, checkpoint=True)
    run_case(out, tmp, "keypointnet_v1_eval", 1014, kp(do_upsample=False, with_drop=True), rgb_image,
             kp_forward(True), names, False, checkpoint=True)
    run_case(out, tmp, "ionet", 1020, lambda: tm.InlierNet(**IO), io_input, lambda net, x: [net(x)], ["logits"], True,
             with_dx=True)


README = """# Whole-model PyTorch fixtures

Written by `tools/make_model_fixtures.py` (torch {torch}); do not edit by hand, re-run the script.
Read by `tests/reference/models_reference_test.cpp`. Networks: `tools/torch_models.py` at narrow
widths (SuperPoint widths 8,8,16,16, head 32, descriptors 16; KeyPointNet widths 8,8,16,16, head 16,
upsample 32, descriptors 16; IO-Net width 16, 4 blocks).

Per case: `weights.safetensors` (float32, via .pth and `tools/pth_to_safetensors.py`), `x.npy`
(float32 input), `R_<out>.npy` (float32 seeds), `<out>.npy` and `dx.npy` (float64),
`grads.safetensors` (F64 gradient of every parameter), `after.safetensors` (buffers after the
forward), `params.json`. loss = sum over outputs of sum(out * R_out).
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=ROOT, help="output folder (default: %(default)s)")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    with tempfile.TemporaryDirectory() as tmp:
        make_all(out, tmp)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README.format(torch=torch.__version__))
    total = sum(s for _, s in written)
    unique = {}
    for path, size in written:
        with open(path, "rb") as f:
            unique[hash(f.read())] = size
    for path, size in written:
        print(f"wrote {os.path.relpath(path, out):45s} {size:8d} B")
    print(f"{len(written)} files, {total / 1024:.1f} KiB in {out}; "
          f"{sum(unique.values()) / 1024:.1f} KiB of distinct contents (what git stores)")
    if sum(unique.values()) > 2 * 1024 * 1024:
        print("warning: fixtures exceed 2 MiB; shrink the cases", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
