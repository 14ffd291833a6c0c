#!/usr/bin/python3
"""OpenCV SIFT and ORB on an HPatches folder, written in the `kpt detect` format so that
`kpt eval --detections` scores them with exactly the protocol it scores kpt's networks with:

    tools/classical_hpatches.py --hpatches ../shared/data/hpatches --out classical --size 240x320
    for m in sift orb; do build/bin/kpt eval --hpatches ../shared/data/hpatches --detections classical/$m; done

Every image is read as KP2D reads HPatches (cv2.imread, BGR), resized to --size with cv2.resize
(bilinear, aspect not kept; SPEC 7.1), turned gray, and given to the detector. Written per image:
OUT/METHOD/SEQ/N.kpts.npy (K x 3 float32: x, y, score = the detector's response) and N.desc.npy
(K x D float32).
  - sift: cv2.SIFT_create() defaults; 128-dimensional float descriptors.
  - orb:  cv2.ORB_create(--orb-features) otherwise default; its 256-bit descriptors are unpacked to
          256 values in {0, 1}, whose squared L2 distance is the Hamming distance, so kpt's L2
          matching is ORB's own Hamming matching.
kpt eval then keeps the top-k by score (300 at 240x320), as it does for a network.
"""
import argparse
import os
import sys

import cv2
import numpy as np


def parse_size(text):
    h, w = text.lower().split("x")
    return int(h), int(w)


def find_image(folder, k):
    for ext in (".ppm", ".png", ".jpg"):
        p = os.path.join(folder, f"{k}{ext}")
        if os.path.isfile(p):
            return p
    return None


def sequences(root):
    """[(name, {k: image path}, {k: H_1_k})] for every folder with 1.* and some k.* + H_1_k."""
    out = []
    for name in sorted(os.listdir(root)):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder) or find_image(folder, 1) is None:
            continue
        images, hs = {1: find_image(folder, 1)}, {}
        for k in range(2, 7):
            img, hf = find_image(folder, k), os.path.join(folder, f"H_1_{k}")
            if img is not None and os.path.isfile(hf):
                images[k] = img
                hs[k] = np.loadtxt(hf).reshape(3, 3)
        if hs:
            out.append((name, images, hs))
    return out


def sift(orb_features):
    del orb_features
    detector = cv2.SIFT_create()

    def run(gray):
        kps, desc = detector.detectAndCompute(gray, None)
        return kps, (desc if desc is not None else np.zeros((0, 128))).astype(np.float32)
    return run


def orb(orb_features):
    detector = cv2.ORB_create(orb_features)

    def run(gray):
        kps, desc = detector.detectAndCompute(gray, None)
        bits = np.unpackbits(desc, axis=1) if desc is not None else np.zeros((0, 256), np.uint8)
        return kps, bits.astype(np.float32)
    return run


METHODS = {"sift": sift, "orb": orb}


def write_detections(root, out, size, method, orb_features=1000):
    """Detects every image of `root` resized to `size` (H, W) into `out`; returns
    {(sequence, k): original (H, W)}."""
    h, w = size
    detect = METHODS[method](orb_features)
    shapes = {}
    for name, images, _ in sequences(root):
        os.makedirs(os.path.join(out, name), exist_ok=True)
        for k, path in images.items():
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                sys.exit(f"classical_hpatches: cannot read {path}")
            shapes[(name, k)] = img.shape[:2]
            small = cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
            kps, desc = detect(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
            pts = np.array([[p.pt[0], p.pt[1], p.response] for p in kps], dtype=np.float32).reshape(-1, 3)
            np.save(os.path.join(out, name, f"{k}.kpts.npy"), pts)
            np.save(os.path.join(out, name, f"{k}.desc.npy"), desc)
    return shapes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hpatches", required=True, help="folder of HPatches sequences")
    ap.add_argument("--out", required=True, help="writes OUT/sift and OUT/orb")
    ap.add_argument("--size", default="240x320", help="HxW the images are resized to (default 240x320)")
    ap.add_argument("--methods", default="sift,orb", help="comma-separated: sift, orb")
    ap.add_argument("--orb-features", type=int, default=1000, help="ORB's nfeatures (default 1000)")
    a = ap.parse_args()
    if not os.path.isdir(a.hpatches):
        sys.exit(f"classical_hpatches: --hpatches {a.hpatches} is not a folder")
    for m in a.methods.split(","):
        if m not in METHODS:
            sys.exit(f"classical_hpatches: unknown method {m!r} (sift, orb)")
        shapes = write_detections(a.hpatches, os.path.join(a.out, m), parse_size(a.size), m, a.orb_features)
        print(f"{m}: {len(shapes)} images -> {os.path.join(a.out, m)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
