#!/usr/bin/python3
"""Writes cv2.findHomography results that kpt's evaluation RANSAC must reproduce.

Run from anywhere:  tools/make_ransac_fixtures.py [--out DIR]   (default: tests/data/ransac)
Needs numpy and OpenCV (Debian: python3-numpy, python3-opencv); CI never runs it, its output is
committed and it is deterministic.

Every case is a set of correspondences src -> dst: a random homography, some inliers with
Gaussian noise and uniformly random outliers, from easy (many inliers, little noise) to weakly
determined (few inliers, noise near the 3 px threshold), where two RANSACs with different samples
disagree by pixels. Files:
  matches.npy  [cases, n, 4] '<f4'  (src x, src y, dst x, dst y); n is the same for every case
  counts.npy   [cases] '<i8'        how many of the n rows the case uses (the rest is padding)
  H.npy        [cases, 3, 3] '<f8'  cv2.findHomography(src, dst, cv2.RANSAC, 3, maxIters=5000)
  mask.npy     [cases, n] '|u1'     its inlier mask (0 for padding rows)
Cases where OpenCV finds no homography are not written.
"""
import argparse
import os

import cv2
import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "ransac"))
N = 200  # rows per case


def random_homography(rng, w=320, h=240):
    c = np.float32([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]])
    d = c + rng.uniform(-0.2, 0.2, (4, 2)).astype(np.float32) * np.float32([w, h])
    return cv2.getPerspectiveTransform(c, d)


def case(rng, n, inlier_ratio, noise):
    H = random_homography(rng)
    src = rng.uniform([0, 0], [319, 239], (n, 2))
    p = np.concatenate([src, np.ones((n, 1))], 1) @ H.T
    dst = p[:, :2] / p[:, 2:3] + rng.normal(0, noise, (n, 2))
    outliers = rng.uniform(size=n) >= inlier_ratio
    dst[outliers] = rng.uniform([0, 0], [319, 239], (outliers.sum(), 2))
    return src.astype(np.float32), dst.astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=ROOT)
    a = ap.parse_args()
    rng = np.random.RandomState(2026)
    settings = [(n, r, s) for n in (12, 30, 80, 200) for r in (0.3, 0.5, 0.8) for s in (0.5, 1.5, 2.5)]
    matches, counts, Hs, masks = [], [], [], []
    for n, r, s in settings:
        src, dst = case(rng, n, r, s)
        H, mask = cv2.findHomography(src, dst, cv2.RANSAC, 3, maxIters=5000)
        if H is None:
            continue
        m = np.zeros((N, 4), np.float32)
        m[:n, :2], m[:n, 2:] = src, dst
        mk = np.zeros(N, np.uint8)
        mk[:n] = mask.ravel()
        matches.append(m), counts.append(n), Hs.append(H), masks.append(mk)
    os.makedirs(a.out, exist_ok=True)
    np.save(os.path.join(a.out, "matches.npy"), np.stack(matches).astype("<f4"))
    np.save(os.path.join(a.out, "counts.npy"), np.array(counts, dtype="<i8"))
    np.save(os.path.join(a.out, "H.npy"), np.stack(Hs).astype("<f8"))
    np.save(os.path.join(a.out, "mask.npy"), np.stack(masks).astype("|u1"))
    print(f"wrote {len(Hs)} cases to {a.out} (OpenCV {cv2.__version__})")


if __name__ == "__main__":
    main()
