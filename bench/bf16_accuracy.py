#!/usr/bin/python3
"""What bf16 inference costs in accuracy: a model run in float and with KPT_CONV_BF16=1.

KPT_CONV_BF16=1 makes the cpu backend round every convolution's input and weights to bfloat16
(float accumulation and output; backends/cpu/src/conv_bf16.hpp), an emulation no faster than
float. --mode winograd runs KPT_CONV_BF16=winograd instead, kpt's bf16 inference path: the
Winograd layers' products in bf16 (on vdpbf16ps with AVX512-BF16, emulated with the same numerics
elsewhere), the other layers' input and weights rounded. This script runs the same model both
ways on the HPatches images and prints:
  1. per head of `kpt forward`: the difference's rms over the float output's rms, and its largest
     element over that rms (median and worst image);
  2. per image, the share of `kpt detect`'s top-K keypoints found at the same pixel (within
     --radius px) in both runs, and the descriptors' largest change for those keypoints;
  3. for models with descriptors, `kpt eval` (the HPatches protocol) both ways.

    /usr/bin/python3 bench/bf16_accuracy.py --kpt build/bin/kpt --hpatches ../shared/data/hpatches \\
        --model superpoint --weights models/superpoint-photos.safetensors

Needs numpy (Debian's python3-numpy); not torch.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    sys.exit("bf16_accuracy.py needs numpy: apt-get install python3-numpy, and run it with /usr/bin/python3")

IMAGE_EXT = (".ppm", ".png", ".jpg", ".jpeg", ".pgm")


BF16_MODE = "1"  # KPT_CONV_BF16's value for the bf16 runs (--mode)


def kpt(args, exe, bf16):
    env = dict(os.environ, KPT_CONV_BF16=BF16_MODE if bf16 else "0")
    proc = subprocess.run([exe] + args, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"{exe} {' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr}")
    return proc.stdout


def images(root):
    out = []
    for seq in sorted(os.listdir(root)):
        d = os.path.join(root, seq)
        if os.path.isdir(d):
            out += [os.path.join(seq, f) for f in sorted(os.listdir(d)) if f.lower().endswith(IMAGE_EXT)]
    if not out:
        sys.exit(f"{root}: no HPatches sequences with images found (expected SEQ/1.ppm ...)")
    return out


def forward_errors(a, exe, tmp, imgs):
    """{head: [(rms ratio, max ratio) per image]}."""
    errs = {}
    for rel in imgs:
        outs = []
        for bf16 in (False, True):
            d = os.path.join(tmp, "fwd", "bf16" if bf16 else "fp32", rel)
            kpt(["forward", "--input", os.path.join(a.hpatches, rel), "--output", d, "--size", a.size] + a.model_args,
                exe, bf16)
            outs.append(d)
        for f in sorted(os.listdir(outs[0])):
            x = np.load(os.path.join(outs[0], f)).astype(np.float64)
            y = np.load(os.path.join(outs[1], f)).astype(np.float64)
            rms = np.sqrt(np.mean(x * x)) or 1.0
            errs.setdefault(f[:-4], []).append((np.sqrt(np.mean((y - x) ** 2)) / rms, np.max(np.abs(y - x)) / rms))
    return errs


def keypoint_agreement(a, exe, tmp, imgs):
    """[(image, share of keypoints kept, largest descriptor change)]."""
    dirs = []
    for bf16 in (False, True):
        d = os.path.join(tmp, "det", "bf16" if bf16 else "fp32")
        kpt(["detect", "--input", a.hpatches, "--output", d, "--size", a.size, "--top-k", str(a.top_k)] + a.model_args,
            exe, bf16)
        dirs.append(d)
    rows = []
    for rel in imgs:
        stem = os.path.splitext(rel)[0]
        k0 = np.load(os.path.join(dirs[0], stem + ".kpts.npy"))
        k1 = np.load(os.path.join(dirs[1], stem + ".kpts.npy"))
        if len(k0) == 0:
            rows.append((rel, float("nan"), float("nan")))
            continue
        dist = np.linalg.norm(k0[:, None, :2] - k1[None, :, :2], axis=2) if len(k1) else np.full((len(k0), 1), np.inf)
        nearest = dist.argmin(axis=1)
        kept = dist[np.arange(len(k0)), nearest] <= a.radius
        desc_change = float("nan")
        d0 = os.path.join(dirs[0], stem + ".desc.npy")
        if os.path.exists(d0) and kept.any():
            e0, e1 = np.load(d0), np.load(os.path.join(dirs[1], stem + ".desc.npy"))
            desc_change = float(np.max(np.linalg.norm(e0[kept] - e1[nearest[kept]], axis=1)))
        rows.append((rel, float(kept.mean()), desc_change))
    return rows


def evaluate(a, exe, tmp):
    res = []
    for bf16 in (False, True):
        path = os.path.join(tmp, f"eval-{'bf16' if bf16 else 'fp32'}.json")
        kpt(["eval", "--hpatches", a.hpatches, "--size", a.size, "--top-k", str(a.top_k), "--json", path] + a.model_args,
            exe, bf16)
        with open(path) as f:
            res.append(json.load(f)["subsets"])
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kpt", default="build/bin/kpt", help="the kpt command-line tool")
    ap.add_argument("--hpatches", required=True, help="folder of HPatches sequences")
    ap.add_argument("--model", required=True, help="superpoint, magicpoint or keypointnet")
    ap.add_argument("--variant", help="model variant (kpt eval --help lists them)")
    ap.add_argument("--weights", required=True, help="the model's .safetensors")
    ap.add_argument("--size", default="240x320")
    ap.add_argument("--top-k", type=int, default=300)
    ap.add_argument("--radius", type=float, default=0.5, help="px within which a keypoint counts as the same")
    ap.add_argument("--mode", choices=["1", "winograd"], default="1",
                    help="KPT_CONV_BF16 of the bf16 runs: 1 rounds every convolution's input and weights, "
                         "winograd runs the Winograd layers' products in bf16 (kpt's bf16 inference path)")
    a = ap.parse_args()
    global BF16_MODE
    BF16_MODE = a.mode
    if not os.access(a.kpt, os.X_OK):
        sys.exit(f"{a.kpt}: not an executable; build it with `make build`")
    if not os.path.isfile(a.weights):
        sys.exit(f"{a.weights}: no such weights file")
    a.model_args = ["--model", a.model, "--weights", a.weights] + (["--variant", a.variant] if a.variant else [])
    imgs = images(a.hpatches)

    with tempfile.TemporaryDirectory(prefix="kpt-bf16-") as tmp:
        print(f"# bf16 (KPT_CONV_BF16={a.mode}) against float: {a.model}, {a.weights}, {len(imgs)} images at {a.size}\n")
        print("| head | rms(diff) / rms, median | worst | max abs diff / rms, median | worst |")
        print("|---|---|---|---|---|")
        for head, e in forward_errors(a, a.kpt, tmp, imgs).items():
            r, m = np.array([x[0] for x in e]), np.array([x[1] for x in e])
            print(f"| {head} | {np.median(r):.2e} | {r.max():.2e} | {np.median(m):.2e} | {m.max():.2e} |")

        rows = keypoint_agreement(a, a.kpt, tmp, imgs)
        shares = np.array([r[1] for r in rows])
        desc = np.array([r[2] for r in rows])
        print(f"\nTop-{a.top_k} keypoints at the same place (within {a.radius} px): median "
              f"{np.nanmedian(shares):.3f}, lowest {np.nanmin(shares):.3f} ({rows[int(np.nanargmin(shares))][0]})")
        if not np.all(np.isnan(desc)):
            print(f"Largest change of a kept keypoint's unit descriptor (L2): median {np.nanmedian(desc):.2e}, "
                  f"worst {np.nanmax(desc):.2e}")

        if a.model == "magicpoint":
            return
        fp32, bf16 = evaluate(a, a.kpt, tmp)
        keys = ["repeatability", "localization_error", "matching_score", "cor1", "cor3", "cor5"]
        print("\n| subset | " + " | ".join(keys) + " |")
        print("|---|" + "---|" * len(keys))
        for sub in fp32:
            cells = [f"{fp32[sub][k]:.4f} -> {bf16[sub][k]:.4f}" for k in keys]
            print(f"| {sub} (float -> bf16) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
