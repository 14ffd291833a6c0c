#!/usr/bin/python3
"""Full-size parity of kpt's models with PyTorch, through the `kpt` program (not run in CI).

  tools/check_models_torch.py [--kpt build/bin/kpt] [--image PHOTO] [--cases superpoint:magicleap,...]
                              [--tol 1e-4] [--keep DIR]

For every case MODEL:VARIANT (default: superpoint:magicleap keypointnet:v4):
  (a) kpt -> torch: `kpt init --model M --variant V --seed S --output W.safetensors`, load W strictly
      into tools/torch_models.py's twin, run torch (eval mode) on the photo and compare with
      `kpt forward --model M --variant V --weights W --input IMAGE --output DIR`;
  (b) torch -> kpt: a torch-initialised state_dict saved as .pth, converted by
      tools/pth_to_safetensors.py, run by `kpt forward`, compared with torch.
Outputs compared: semi.npy, desc.npy (SuperPoint; magicpoint: semi only) or score.npy, coord.npy,
desc.npy (KeyPointNet), each by max |kpt - torch| / max(|torch|, 1e-2 * max|torch|) (the measure of
tests/reference/fixtures.hpp) against torch in float64 on the float32 weights; a comparison passes
when that error is <= --tol or at most twice the error of torch's own float32 run (printed beside).

The photo (default: KDE's ColorfulCups wallpaper from the Debian package plasma-workspace-wallpapers,
`apt-get install plasma-workspace-wallpapers`) is centre-cropped to 4:3 and resized to 320x240 with
OpenCV (INTER_AREA), then written as an 8-bit PNG, RGB or gray as the model takes it, so that kpt
and torch read the same pixel values (torch: value / 255). Exit status 0 when every comparison passes.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import torch_models as tm  # noqa: E402
from pth_to_safetensors import read_safetensors  # noqa: E402

REPO = os.path.normpath(os.path.join(HERE, ".."))
DEFAULT_IMAGE = "/usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg"
OUTPUTS = {"superpoint": ["semi", "desc"], "magicpoint": ["semi"], "keypointnet": ["score", "coord", "desc"]}


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} exited with {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout


def prepare_images(src, folder, h=240, w=320):
    """(rgb_png, gray_png) of `src`: centre crop to w:h, INTER_AREA resize, 8-bit PNGs."""
    bgr = cv2.imread(src, cv2.IMREAD_COLOR)
    if bgr is None:
        sys.exit(f"error: cannot read the photo '{src}' (install plasma-workspace-wallpapers or pass --image)")
    H, W = bgr.shape[:2]
    if W * h > H * w:
        cw = H * w // h
        bgr = bgr[:, (W - cw) // 2:(W - cw) // 2 + cw]
    else:
        ch = W * h // w
        bgr = bgr[(H - ch) // 2:(H - ch) // 2 + ch]
    bgr = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    rgb_png, gray_png = os.path.join(folder, "photo_rgb.png"), os.path.join(folder, "photo_gray.png")
    cv2.imwrite(rgb_png, bgr)
    cv2.imwrite(gray_png, gray)
    return rgb_png, gray_png


def torch_input(png, family, model):
    """The network input as kpt forward builds it: [1, C, H, W] float64."""
    if family == "superpoint":
        g = cv2.imread(png, cv2.IMREAD_UNCHANGED).astype(np.float64) / 255.0
        return torch.from_numpy(g)[None, None]
    rgb = cv2.cvtColor(cv2.imread(png, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB).astype(np.float64) / 255.0
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].contiguous()
    return tm.kp2d_normalize(x, model.use_color)


def rel_error(got, want):
    scale = float(np.abs(want).max()) if want.size else 0.0
    floor = max(1e-2 * scale, 1e-30)
    return float((np.abs(got.astype(np.float64) - want) / np.maximum(np.abs(want), floor)).max())


def load_strict(model, path):
    tensors, _ = read_safetensors(path)
    ours, theirs = set(model.state_dict()), set(tensors)
    if ours != theirs:
        sys.exit(f"error: '{path}' keys differ from torch's: missing {sorted(ours - theirs)[:10]}, "
                 f"unexpected {sorted(theirs - ours)[:10]}")
    model.load_state_dict({k: (v.double() if v.is_floating_point() else v) for k, v in tensors.items()}, strict=True)


def compare(kpt_bin, name, variant, weights, png, model, family, out_dir, tol, label):
    model = model.eval()
    x = torch_input(png, family, model)
    with torch.no_grad():
        outs32 = [t.double() for t in model.float()(x.float())]  # torch's own float32 error, for scale
        outs = model.double()(x)
    run([kpt_bin, "forward", "--model", name, "--variant", variant, "--weights", weights, "--input", png,
         "--output", out_dir])
    ok = True
    for head, t, t32 in zip(OUTPUTS[name], outs, outs32):
        got = np.load(os.path.join(out_dir, head + ".npy"))
        want = t.numpy()
        if got.shape != want.shape:
            print(f"  {label} {head}: shape {got.shape}, torch {want.shape}  FAIL")
            ok = False
            continue
        e, e32 = rel_error(got, want), rel_error(t32.numpy(), want)
        # kpt computes in float32: it passes within --tol, or when no worse than twice torch's own
        # float32 error (a deep eval-mode KeyPointNet descriptor reaches ~4e-4 in torch float32).
        passed = e <= max(tol, 2 * e32)
        ok &= passed
        print(f"  {label} {head:5s} {str(want.shape):18s} max rel error {e:.3e} (torch float32: {e32:.3e})  "
              f"{'ok' if passed else 'FAIL'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kpt", default=os.path.join(REPO, "build", "bin", "kpt"), help="the kpt program (default: %(default)s)")
    ap.add_argument("--image", default=DEFAULT_IMAGE, help="a real photo (default: %(default)s)")
    ap.add_argument("--cases", default="superpoint:magicleap,keypointnet:v4",
                    help="comma-separated MODEL:VARIANT list (default: %(default)s)")
    ap.add_argument("--seed", type=int, default=7, help="kpt init seed and torch seed (default: %(default)s)")
    ap.add_argument("--tol", type=float, default=1e-4, help="max relative error (default: %(default)s)")
    ap.add_argument("--keep", help="keep the working files in this folder")
    args = ap.parse_args()
    if not os.access(args.kpt, os.X_OK):
        sys.exit(f"error: no kpt program at '{args.kpt}' (build the kpt_cli target or pass --kpt)")
    torch.set_num_threads(max(1, os.cpu_count() // 2))

    work = args.keep or tempfile.mkdtemp(prefix="kpt_check_models_")
    os.makedirs(work, exist_ok=True)
    rgb_png, gray_png = prepare_images(args.image, work)
    all_ok = True
    for case in args.cases.split(","):
        name, _, variant = case.partition(":")
        model, family = tm.build(name, variant or None)
        png = gray_png if family == "superpoint" else rgb_png
        variant = variant or {"superpoint": "magicleap", "magicpoint": "default", "keypointnet": "v4"}[name]
        print(f"{name}:{variant} on {os.path.basename(args.image)} -> {png}")

        # (a) kpt-initialised weights -> torch
        w_kpt = os.path.join(work, f"{name}_{variant}_kpt.safetensors")
        run([args.kpt, "init", "--model", name, "--variant", variant, "--seed", str(args.seed), "--output", w_kpt])
        load_strict(model, w_kpt)
        all_ok &= compare(args.kpt, name, variant, w_kpt, png, model, family,
                          os.path.join(work, f"{name}_{variant}_a"), args.tol, "(a) kpt init -> torch")

        # (b) torch-initialised weights -> .pth -> pth_to_safetensors.py -> kpt
        torch.manual_seed(args.seed)
        model, _ = tm.build(name, variant)
        if family == "keypointnet":
            # Non-trivial running statistics, so that eval-mode BatchNorm is exercised.
            with torch.no_grad():
                for m in model.modules():
                    if isinstance(m, torch.nn.BatchNorm2d):
                        m.running_mean.normal_(0, 0.1)
                        m.running_var.uniform_(0.5, 1.5)
        pth = os.path.join(work, f"{name}_{variant}_torch.pth")
        w_torch = os.path.join(work, f"{name}_{variant}_torch.safetensors")
        torch.save(model.state_dict(), pth)
        run([sys.executable, os.path.join(HERE, "pth_to_safetensors.py"), pth, w_torch])
        load_strict(model, w_torch)  # the converted values, exactly as kpt reads them
        all_ok &= compare(args.kpt, name, variant, w_torch, png, model, family,
                          os.path.join(work, f"{name}_{variant}_b"), args.tol, "(b) torch .pth -> kpt  ")
    print("all comparisons passed" if all_ok else "SOME COMPARISONS FAILED", f"(work files: {work})")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
