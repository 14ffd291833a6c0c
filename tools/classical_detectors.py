#!/usr/bin/python3
"""Classical corner detectors on a `kpt synth` folder, for the synthetic-shapes table of the
SuperPoint paper (Table 1): Harris, Shi-Tomasi and FAST from OpenCV (Debian's python3-opencv),
each turned into a score map as rpautrat/SuperPoint's classical-detector evaluation does, then
box-NMS'd and cut as it does, and written as DIR/<method>/N.kpts.npy (K x 3 float32: x, y,
score), the format `kpt eval-synth --detections` reads:

    kpt synth --out shapes --count 1000 --seed 12345
    tools/classical_detectors.py --images shapes --out classical
    for m in harris shi fast; do kpt eval-synth --images shapes --detections classical/$m; done

rpautrat/SuperPoint (superpoint/models/classical_detectors.py, configs/classical-detectors_shapes.yaml,
evaluations/detector_evaluation.py), on the 8-bit image:
  - Harris: the raw cv2.cornerHarris(block 4, aperture 3, k 0.04) of the uint8 image (OpenCV
    scales 8-bit input, so the values are those RP thresholds below);
  - Shi-Tomasi: for 600 quality levels t in [0.0001, 1), goodFeaturesToTrack(600 corners, quality t,
    min distance 5) marks its corners with t (a corner's score is the highest level that finds it);
  - FAST: cv2.FastFeatureDetector (threshold 10, its own NMS) response at each detected pixel;
  - then box NMS (`box_nms`: a box of side 4 around every pixel with score >= 0, greedy
    tf.image.non_max_suppression with IoU 0.1, i.e. a kept pixel suppresses offsets with
    Chebyshev distance <= 3 except (3, 2), (2, 3), (3, 3)), the 300 best (model default top_k),
    and the evaluation keeps scores > 1e-4 (compute_tp_fp's remove_zero).
"""
import argparse
import os
import re
import sys

import cv2
import numpy as np


def harris(img):
    return cv2.cornerHarris(img, 4, 3, 0.04)


def shi_tomasi(img):
    score = np.zeros(img.shape, np.float32)
    for t in np.linspace(0.0001, 1, 600, endpoint=False):
        corners = cv2.goodFeaturesToTrack(img, 600, float(t), 5)
        if corners is None:  # no corner at this level, so none at any higher one
            break
        c = corners.reshape(-1, 2).astype(int)
        score[c[:, 1], c[:, 0]] = t
    return score


def fast(img):
    score = np.zeros(img.shape, np.float32)
    for kp in cv2.FastFeatureDetector_create(10).detect(img):
        x, y = int(kp.pt[0]), int(kp.pt[1])
        score[y, x] = kp.response
    return score


METHODS = {"harris": harris, "shi": shi_tomasi, "fast": fast}


def box_offsets(size, iou):
    """Offsets (dy, dx) that a kept box of side `size` suppresses: IoU > iou, where two boxes at
    offset (dx, dy) intersect in (size - |dx|)(size - |dy|) out of 2 size^2 - that. size <= 0:
    no NMS (a pixel only suppresses itself)."""
    if size <= 0:
        return np.zeros((1, 2), int)
    r = int(np.ceil(size)) - 1
    out = []
    for dy in range(-r, r + 1):
        for dx in range(-r, r + 1):
            inter = max(0.0, size - abs(dx)) * max(0.0, size - abs(dy))
            if inter / (2 * size * size - inter) > iou:
                out.append((dy, dx))
    return np.array(out, int)


def box_nms(score, size=4, iou=0.1, top_k=300, min_score=1e-4):
    """rpautrat's box_nms(prob, size, iou, min_prob=0, keep_top_k) then the evaluation's
    score > min_score; returns K x 3 rows (x, y, score), best first. Ties go to the earlier pixel
    in row-major order, as tf.image.non_max_suppression does. Pixels with score <= 0 can only
    suppress each other, so they are left out."""
    ys, xs = np.nonzero(score > 0)
    s = score[ys, xs]
    order = np.argsort(-s, kind="stable")
    offsets = box_offsets(size, iou)
    h, w = score.shape
    blocked = np.zeros((h, w), bool)
    rows = []
    for i in order:
        x, y = xs[i], ys[i]
        if blocked[y, x]:
            continue
        rows.append((x, y, s[i]))
        oy, ox = y + offsets[:, 0], x + offsets[:, 1]
        ok = (oy >= 0) & (oy < h) & (ox >= 0) & (ox < w)
        blocked[oy[ok], ox[ok]] = True
    if top_k > 0:
        rows = rows[:top_k]
    a = np.array(rows, np.float32).reshape(-1, 3)
    return a[a[:, 2] > min_score]


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
    ap.add_argument("--nms-size", type=float, default=4, help="box side of the NMS (RP nms: 4); 0: no NMS")
    ap.add_argument("--top-k", type=int, default=300, help="keep the best K after NMS (RP: 300); 0: all")
    ap.add_argument("--min-score", type=float, default=1e-4, help="drop scores <= this (RP remove_zero)")
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
            score = METHODS[method](img)
            save_npy(os.path.join(out, f"{n}.kpts.npy"), box_nms(score, a.nms_size, 0.1, a.top_k, a.min_score))
        print(f"{method}: {len(names)} images -> {out}")


if __name__ == "__main__":
    main()
