#!/usr/bin/python3
"""Classical corner detectors on a `kpt synth` folder, for the synthetic-shapes table of the
SuperPoint paper (Table 1): Harris, Shi-Tomasi and FAST from OpenCV (Debian's python3-opencv),
each turned into a score map as rpautrat/SuperPoint's classical-detector evaluation does, then
non-maximum suppressed (radius 4) and written as DIR/<method>/N.kpts.npy (K x 3 float32: x, y,
score), the format `kpt eval-synth --detections` reads:

    kpt synth --out shapes --count 1000 --seed 12345
    tools/classical_detectors.py --images shapes --out classical
    for m in harris shi fast; do kpt eval-synth --images shapes --detections classical/$m; done

Score maps: Harris = cv2.cornerHarris(block 4, aperture 3, k 0.04); Shi-Tomasi = for 600 quality
levels t in (0, 1), goodFeaturesToTrack(600 corners, quality t, min distance 5) marks its corners
with t (so a corner's score is the highest quality level that still finds it); FAST = the
response of cv2.FastFeatureDetector (threshold 10) at each detected pixel.
"""
import argparse
import os
import re
import sys

import cv2
import numpy as np


def harris(img):
    return np.maximum(cv2.cornerHarris(img.astype(np.float32), 4, 3, 0.04), 0)


def shi_tomasi(img):
    score = np.zeros(img.shape, np.float32)
    for t in np.linspace(0.0001, 1, 600, endpoint=False):
        corners = cv2.goodFeaturesToTrack(img, 600, float(t), 5)
        if corners is None:
            break
        c = corners.reshape(-1, 2).astype(int)
        score[c[:, 1], c[:, 0]] = t
    return score


def fast(img):
    score = np.zeros(img.shape, np.float32)
    for kp in cv2.FastFeatureDetector_create(10).detect(img):
        x, y = int(round(kp.pt[0])), int(round(kp.pt[1]))
        score[y, x] = max(score[y, x], kp.response)
    return score


METHODS = {"harris": harris, "shi": shi_tomasi, "fast": fast}


def nms(score, radius=4):
    """Greedy non-maximum suppression in a (2r+1)^2 window, strongest first; returns K x 3 rows."""
    ys, xs = np.nonzero(score > 0)
    order = np.argsort(-score[ys, xs], kind="stable")
    taken = np.zeros(score.shape, bool)
    rows = []
    for i in order:
        x, y = xs[i], ys[i]
        if taken[y, x]:
            continue
        rows.append((x, y, score[y, x]))
        taken[max(0, y - radius):y + radius + 1, max(0, x - radius):x + radius + 1] = True
    return np.array(rows, np.float32).reshape(-1, 3)


def save_npy(path, a):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.save(f, a)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", required=True, help="a folder written by kpt synth")
    ap.add_argument("--out", required=True, help="writes OUT/<method>/N.kpts.npy")
    ap.add_argument("--methods", default="harris,shi,fast")
    a = ap.parse_args()
    names = sorted((int(m.group(1)) for f in os.listdir(a.images) if (m := re.fullmatch(r"(\d+)\.png", f))))
    if not names:
        sys.exit(f"classical_detectors: no N.png in {a.images}; write them with kpt synth")
    for method in a.methods.split(","):
        if method not in METHODS:
            sys.exit(f"classical_detectors: unknown method '{method}' (one of {', '.join(METHODS)})")
        out = os.path.join(a.out, method)
        os.makedirs(out, exist_ok=True)
        for n in names:
            img = cv2.imread(os.path.join(a.images, f"{n}.png"), cv2.IMREAD_GRAYSCALE)
            save_npy(os.path.join(out, f"{n}.kpts.npy"), nms(METHODS[method](img)))
        print(f"{method}: {len(names)} images -> {out}")


if __name__ == "__main__":
    main()
