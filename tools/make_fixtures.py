#!/usr/bin/python3
"""Writes the PyTorch reference fixtures of kpt's tests/reference suite.

Run from anywhere:  tools/make_fixtures.py [--out DIR]   (default: tests/data/reference)
Needs torch and numpy (/usr/bin/python3 on the build machine has both). CI never runs this
script; its output is committed. It is deterministic: each case seeds torch from its own
fixed seed, so re-running it rewrites byte-identical files and adding a case changes no other.

Conventions of every case folder tests/data/reference/<family>/<case>/:
  * Inputs (x, w, b, grid, running stats, item weights, R) are drawn in float32 and stored as
    '<f4'. They are exactly representable in float64, so a C++ test may widen them to double
    without losing anything.
  * References (outputs y, gradients d<name>, updated running stats *_out) are computed in
    float64 by torch from those same values and stored as '<f8'.
  * Gradients are those of the scalar loss = sum(y * R) with the stored random R, i.e. the
    result of back-propagating R from y: d<name> = d loss / d <name>.
  * Integer inputs (class targets) are '<i8'.
  * params.json (when present) holds the op's non-tensor arguments.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "reference"))

written = []  # (path, dtype, shape, bytes)


def save(folder, name, t):
    """Stores a tensor: float32 inputs as '<f4', float64 references as '<f8', int64 as '<i8'."""
    os.makedirs(folder, exist_ok=True)
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    a = np.array(a, order="C", copy=True)  # (ascontiguousarray would turn a 0-d array into 1-d)
    assert a.dtype in (np.float32, np.float64, np.int64, np.int32, np.uint8), a.dtype
    path = os.path.join(folder, name + ".npy")
    np.save(path, a, allow_pickle=False)
    written.append((path, a.dtype.str, a.shape, os.path.getsize(path)))


def save_params(folder, params):
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "params.json")
    with open(path, "w") as f:
        json.dump(params, f, indent=1, sort_keys=True)
        f.write("\n")
    written.append((path, "json", (), os.path.getsize(path)))


def f32(*shape, lo=None, hi=None, scale=1.0, shift=0.0):
    """float32 random values (normal, or uniform in [lo, hi)); returned as float64 for exact math."""
    if lo is not None:
        t = torch.rand(*shape, dtype=torch.float32) * (hi - lo) + lo
    else:
        t = torch.randn(*shape, dtype=torch.float32) * scale + shift
    return t.to(torch.float32).double()


def leaf(t):
    return t.clone().requires_grad_(True)


def run_backward(y, R, named_leaves):
    """Gradients of loss = sum(y * R) with respect to each leaf, computed in float64."""
    loss = (y * R).sum()
    loss.backward()
    return {n: (v.grad if v.grad is not None else torch.zeros_like(v)) for n, v in named_leaves.items()}


def store_case(folder, inputs, outputs, grads, params=None):
    for n, v in inputs.items():
        save(folder, n, v.float() if v.is_floating_point() else v)
    for n, v in outputs.items():
        save(folder, n, v.double())
    for n, v in grads.items():
        save(folder, "d" + n, v.double())
    if params is not None:
        save_params(folder, params)


# ---- conv ----------------------------------------------------------------------------------------
def make_conv2d(out):
    cases = [
        ("k3_s1_p1_bias", 3, 1, 1, True),
        ("k3_s1_p1_nobias", 3, 1, 1, False),
        ("k3_s2_p0_bias", 3, 2, 0, True),
        ("k3_s2_p1_nobias", 3, 2, 1, False),
        ("k1_s1_p0_bias", 1, 1, 0, True),
    ]
    for i, (name, k, s, p, has_bias) in enumerate(cases):
        torch.manual_seed(100 + i)
        x = f32(2, 5, 9, 11)
        w = f32(7, 5, k, k, scale=0.3)
        b = f32(7) if has_bias else None
        xl, wl = leaf(x), leaf(w)
        bl = leaf(b) if has_bias else None
        y = F.conv2d(xl, wl, bl, stride=s, padding=p)
        R = f32(*y.shape)
        leaves = {"x": xl, "w": wl}
        if has_bias:
            leaves["b"] = bl
        g = run_backward(y, R, leaves)
        inputs = {"x": x, "w": w, "R": R}
        if has_bias:
            inputs["b"] = b
        store_case(os.path.join(out, "conv2d", name), inputs, {"y": y}, g,
                   {"stride": s, "padding": p, "bias": has_bias})


def make_conv1d(out):
    cases = [("k3_s1_p1_bias", 3, 1, 1, True), ("k1_s1_p0_nobias", 1, 1, 0, False), ("k3_s2_p0_bias", 3, 2, 0, True)]
    for i, (name, k, s, p, has_bias) in enumerate(cases):
        torch.manual_seed(150 + i)
        x = f32(2, 5, 13)
        w = f32(7, 5, k, scale=0.3)
        b = f32(7) if has_bias else None
        xl, wl = leaf(x), leaf(w)
        bl = leaf(b) if has_bias else None
        y = F.conv1d(xl, wl, bl, stride=s, padding=p)
        R = f32(*y.shape)
        leaves = {"x": xl, "w": wl}
        if has_bias:
            leaves["b"] = bl
        g = run_backward(y, R, leaves)
        inputs = {"x": x, "w": w, "R": R}
        if has_bias:
            inputs["b"] = b
        store_case(os.path.join(out, "conv1d", name), inputs, {"y": y}, g,
                   {"stride": s, "padding": p, "bias": has_bias})


# ---- norm ----------------------------------------------------------------------------------------
def make_batch_norm(out):
    # (name, x shape, training, affine)
    cases = [
        ("bn2d_train", (2, 5, 9, 11), True, True),
        ("bn2d_train_noaffine", (2, 5, 9, 11), True, False),
        ("bn2d_eval", (2, 5, 9, 11), False, True),
        ("bn1d_train_nc", (8, 5), True, True),
        ("bn1d_train_ncl", (3, 5, 7), True, True),
        ("bn1d_eval_ncl", (3, 5, 7), False, True),
    ]
    momentum, eps = 0.1, 1e-5
    for i, (name, shp, training, affine) in enumerate(cases):
        torch.manual_seed(200 + i)
        C = shp[1]
        # Non-zero mean and non-unit spread so that the statistics matter.
        x = f32(*shp, scale=1.5, shift=0.7)
        w = f32(C, lo=0.5, hi=1.5)
        b = f32(C, scale=0.5)
        rm = f32(C, scale=0.3)
        rv = f32(C, lo=0.5, hi=2.0)
        xl = leaf(x)
        wl, bl = (leaf(w), leaf(b)) if affine else (None, None)
        rm_t, rv_t = rm.clone(), rv.clone()
        y = F.batch_norm(xl, rm_t, rv_t, wl, bl, training=training, momentum=momentum, eps=eps)
        R = f32(*y.shape)
        leaves = {"x": xl}
        if affine:
            leaves.update(w=wl, b=bl)
        g = run_backward(y, R, leaves)
        inputs = {"x": x, "running_mean": rm, "running_var": rv, "R": R}
        if affine:
            inputs.update(w=w, b=b)
        store_case(os.path.join(out, "batch_norm", name), inputs,
                   {"y": y, "running_mean_out": rm_t, "running_var_out": rv_t}, g,
                   {"training": training, "momentum": momentum, "eps": eps, "affine": affine})


def make_instance_norm(out):
    cases = [("in1d", (3, 4, 10)), ("in2d", (2, 3, 7, 9))]
    eps = 1e-5
    for i, (name, shp) in enumerate(cases):
        torch.manual_seed(300 + i)
        x = f32(*shp, scale=2.0, shift=-0.4)
        xl = leaf(x)
        y = F.instance_norm(xl, eps=eps)
        R = f32(*y.shape)
        g = run_backward(y, R, {"x": xl})
        store_case(os.path.join(out, "instance_norm", name), {"x": x, "R": R}, {"y": y}, g, {"eps": eps})


# ---- pool ----------------------------------------------------------------------------------------
def make_max_pool2d(out):
    cases = [("k2_s2_p0", 2, 2, 0, (2, 3, 9, 11)), ("k3_s2_p1", 3, 2, 1, (2, 3, 9, 11)), ("k2_s2_p0_even", 2, 2, 0, (2, 4, 8, 6))]
    for i, (name, k, s, p, shp) in enumerate(cases):
        torch.manual_seed(400 + i)
        x = f32(*shp)  # continuous values: no ties, so the arg-max (and the gradient) is unique
        xl = leaf(x)
        y = F.max_pool2d(xl, kernel_size=k, stride=s, padding=p)
        R = f32(*y.shape)
        g = run_backward(y, R, {"x": xl})
        store_case(os.path.join(out, "max_pool2d", name), {"x": x, "R": R}, {"y": y}, g,
                   {"kernel": k, "stride": s, "padding": p})


# ---- shuffle -------------------------------------------------------------------------------------
def make_pixel_shuffle(out):
    # r = 2 on a generic map; r = 8 on SuperPoint's detector head: 65 logits per cell, softmax,
    # dustbin dropped -> 64 channels -> one full-resolution heat map.
    torch.manual_seed(500)
    x = f32(2, 12, 5, 7)
    xl = leaf(x)
    y = F.pixel_shuffle(xl, 2)
    R = f32(*y.shape)
    g = run_backward(y, R, {"x": xl})
    store_case(os.path.join(out, "pixel_shuffle", "r2"), {"x": x, "R": R}, {"y": y}, g, {"r": 2})

    torch.manual_seed(501)
    logits = f32(2, 65, 3, 4)
    x = torch.softmax(logits, dim=1)[:, :64].float().double()  # stored as float32: round first
    xl = leaf(x)
    y = F.pixel_shuffle(xl, 8)
    R = f32(*y.shape)
    g = run_backward(y, R, {"x": xl})
    store_case(os.path.join(out, "pixel_shuffle", "r8_superpoint"), {"x": x, "R": R}, {"y": y}, g, {"r": 8})

    # The inverse (torch pixel_unshuffle = kpt space_to_depth): SuperPoint's label cells.
    for i, (name, shp, r) in enumerate([("r2", (2, 3, 10, 14), 2), ("r8", (2, 1, 24, 32), 8)]):
        torch.manual_seed(510 + i)
        x = f32(*shp)
        xl = leaf(x)
        y = F.pixel_unshuffle(xl, r)
        R = f32(*y.shape)
        g = run_backward(y, R, {"x": xl})
        store_case(os.path.join(out, "space_to_depth", name), {"x": x, "R": R}, {"y": y}, g, {"r": r})


# ---- grid_sample ---------------------------------------------------------------------------------
def make_grid_sample(out):
    for i, align in enumerate([True, False]):
        torch.manual_seed(600 + i)
        x = f32(2, 3, 7, 9)
        # Points in [-1.3, 1.3]: some fall outside the image (zeros padding) or straddle its border.
        grid = f32(2, 5, 6, 2, lo=-1.3, hi=1.3)
        xl, gl = leaf(x), leaf(grid)
        y = F.grid_sample(xl, gl, mode="bilinear", padding_mode="zeros", align_corners=align)
        R = f32(*y.shape)
        g = run_backward(y, R, {"x": xl, "grid": gl})
        name = "align_corners_true" if align else "align_corners_false"
        store_case(os.path.join(out, "grid_sample", name), {"x": x, "grid": grid, "R": R}, {"y": y}, g,
                   {"align_corners": align})


# ---- loss ----------------------------------------------------------------------------------------
def make_cross_entropy(out):
    # (name, logits shape, weighted) ; [N,C] and SuperPoint's [N,65,Hc,Wc] cell classification.
    cases = [("nc_weighted", (6, 5), True), ("nc_unweighted", (6, 5), False),
             ("superpoint_weighted", (2, 65, 3, 4), True), ("nchw_unweighted", (2, 4, 3, 5), False)]
    for i, (name, shp, weighted) in enumerate(cases):
        torch.manual_seed(700 + i)
        logits = f32(*shp, scale=2.0)
        tshape = (shp[0],) + tuple(shp[2:])
        target = torch.randint(0, shp[1], tshape, dtype=torch.int64)
        if weighted:
            # A validity mask (some zeros) with a few fractional weights.
            w = (torch.rand(tshape) > 0.3).double() * torch.tensor([1.0, 0.5, 2.0]).double()[
                torch.randint(0, 3, tshape)]
            w.view(-1)[0] = 1.0  # never all zero
            w = w.float().double()
        else:
            w = torch.ones(tshape, dtype=torch.float64)
        ll = leaf(logits)
        ce = F.cross_entropy(ll, target, reduction="none")
        loss = (ce * w).sum() / w.sum()
        R = f32(1)[0]  # a scalar seed for the scalar loss
        g = run_backward(loss, R, {"logits": ll})
        inputs = {"logits": logits, "target": target, "R": R}
        if weighted:
            inputs["item_weight"] = w
        store_case(os.path.join(out, "cross_entropy", name), inputs, {"y": loss}, g, {"weighted": weighted})


# ---- npy interoperability ------------------------------------------------------------------------
def make_npy(out):
    """Files written by numpy itself, for kpt's .npy reader: every supported dtype, both versions."""
    folder = os.path.join(out, "npy")
    rng = np.random.default_rng(800)
    arrays = {
        "f4_2x3": rng.standard_normal((2, 3)).astype("<f4"),
        "f8_4": rng.standard_normal(4).astype("<f8"),
        "i8_3x1x2": rng.integers(-1000, 1000, (3, 1, 2)).astype("<i8"),
        "i4_5": rng.integers(-1000, 1000, 5).astype("<i4"),
        "u1_2x2x3": rng.integers(0, 256, (2, 2, 3)).astype("|u1"),
        "f4_scalar": np.array(1.5, dtype="<f4"),
        "f4_0x3": np.zeros((0, 3), dtype="<f4"),
        "f8_1x2x1x2x3": rng.standard_normal((1, 2, 1, 2, 3)).astype("<f8"),
    }
    os.makedirs(folder, exist_ok=True)
    for name, a in arrays.items():
        save(folder, name, a)
        # Values as text, so the C++ test compares against numpy without a second reader.
        save_values = os.path.join(folder, name + ".txt")
        with open(save_values, "w") as f:
            f.write(" ".join(str(int(v)) if a.dtype.kind in "iu" else repr(float(v)) for v in a.reshape(-1)) + "\n")
        written.append((save_values, "txt", a.shape, os.path.getsize(save_values)))
    # Format version 2.0 (4-byte header length).
    a = rng.standard_normal((3, 4)).astype("<f4")
    path = os.path.join(folder, "f4_3x4_v2.npy")
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=(2, 0), allow_pickle=False)
    written.append((path, a.dtype.str, a.shape, os.path.getsize(path)))
    with open(os.path.join(folder, "f4_3x4_v2.txt"), "w") as f:
        f.write(" ".join(repr(float(v)) for v in a.reshape(-1)) + "\n")
    # Fortran order: must be refused with a clear message.
    path = os.path.join(folder, "f8_fortran.npy")
    np.save(path, np.asfortranarray(rng.standard_normal((3, 2))))
    written.append((path, "<f8 (fortran_order)", (3, 2), os.path.getsize(path)))
    # Big-endian: refused.
    path = os.path.join(folder, "f4_bigendian.npy")
    np.save(path, rng.standard_normal(3).astype(">f4"))
    written.append((path, ">f4", (3,), os.path.getsize(path)))


README = """# PyTorch reference fixtures

Written by `tools/make_fixtures.py` (torch {torch}, numpy {numpy}); do not edit by hand, re-run
the script. Read by `tests/reference/*.cpp` (and `npy/` by `tests/unit/npy_test.cpp`).

Layout: `<family>/<case>/<name>.npy` (+ `params.json`, the op's non-tensor arguments).
- inputs (`x`, `w`, `b`, `grid`, `logits`, `running_mean`, `running_var`, `item_weight`, `R`):
  float32 (`<f4`), drawn in float32 so they widen to float64 exactly; `target`: int64 (`<i8`);
- references (`y`, `running_*_out`, and `d<input>`): float64 (`<f8`), computed by torch in
  float64 from the same values;
- `d<input>` is the gradient of `loss = sum(y * R)`, i.e. `R` back-propagated from `y`.
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=ROOT, help="output folder (default: %(default)s)")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    if os.path.isdir(out):
        shutil.rmtree(out)  # stale cases must not survive a re-run
    os.makedirs(out)
    for make in (make_conv2d, make_conv1d, make_batch_norm, make_instance_norm, make_max_pool2d,
                 make_pixel_shuffle, make_grid_sample, make_cross_entropy, make_npy):
        make(out)
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write(README.format(torch=torch.__version__, numpy=np.__version__))
    total = 0
    for path, dtype, shape, size in written:
        total += size
        print(f"wrote {os.path.relpath(path, out):55s} {dtype:>8s} {str(tuple(shape)):18s} {size:7d} B")
    print(f"{len(written)} files, {total / 1024:.1f} KiB in {out}")
    if total > 2 * 1024 * 1024:
        print("warning: fixtures exceed 2 MiB; shrink the cases", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
