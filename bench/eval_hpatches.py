#!/usr/bin/python3
"""Times the whole `kpt eval` on an HPatches folder (default: the two shared sequences).

  bench/eval_hpatches.py [--kpt build/bin/kpt] [--hpatches DIR] [--size 240x320] [--top-k 300]
                         [--repeat 5] [--out DIR]

Cases, each the median wall time of --repeat runs of the program (process start included):
  eval_detections_sift      kpt eval --detections on OpenCV SIFT detections (metrics only), and
                            the same evaluation in numpy (tools/eval_reference.py) as the baseline
                            measured in this run: the ratio is numpy time / kpt time.
  eval_model_superpoint     kpt eval --model superpoint (network + decoding + metrics), kpt-initialised
  eval_model_keypointnet    kpt eval --model keypointnet (v4), kpt-initialised weights
Prints one JSON object per line, then a table. Needs python3-numpy and python3-opencv (Debian).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tools"))
import eval_reference as ref  # noqa: E402  (SIFT detections and the numpy SPEC 7)


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def run(cmd, env):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kpt", default=os.path.join(here, "..", "build", "bin", "kpt"))
    ap.add_argument("--hpatches", default=os.path.join(here, "..", "..", "shared", "data", "hpatches"))
    ap.add_argument("--size", default="240x320", help="HxW")
    ap.add_argument("--top-k", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default="/tmp/kpt_eval_bench")
    a = ap.parse_args()
    if not os.path.isfile(a.kpt):
        sys.exit(f"eval_hpatches.py: the kpt program '{a.kpt}' does not exist; build it (make build) or pass --kpt")
    if not os.path.isdir(a.hpatches):
        sys.exit(f"eval_hpatches.py: '{a.hpatches}' is not a folder; pass --hpatches DIR")
    size = ref.parse_size(a.size)
    env = dict(os.environ)  # kpt uses every core (run under taskset -c 0 for one)
    dets = os.path.join(a.out, "sift")
    os.makedirs(dets, exist_ok=True)
    shapes = ref.write_sift(a.hpatches, dets, size)
    pairs = sum(len(hs) for _, _, hs in ref.sequences(a.hpatches))
    images = sum(len(im) for _, im, _ in ref.sequences(a.hpatches))
    common = ["--hpatches", a.hpatches, "--size", a.size, "--top-k", str(a.top_k)]

    rows = []
    kpt_med, kpt_min = timed(lambda: run([a.kpt, "eval", "--detections", dets] + common, env), a.repeat)
    np_med, np_min = timed(lambda: ref.evaluate(a.hpatches, dets, size, a.top_k, shapes), a.repeat)
    rows.append(dict(case="eval_detections_sift", pairs=pairs, ms_median=1e3 * kpt_med, ms_min=1e3 * kpt_min,
                     baseline="numpy (tools/eval_reference.py)", baseline_ms_median=1e3 * np_med,
                     speedup=np_med / kpt_med))
    for model, variant in (("superpoint", "magicleap"), ("keypointnet", "v4")):
        w = os.path.join(a.out, f"{model}.safetensors")
        run([a.kpt, "init", "--model", model, "--variant", variant, "--seed", "0", "--output", w], env)
        med, mn = timed(lambda: run([a.kpt, "eval", "--model", model, "--variant", variant, "--weights", w] + common,
                                    env), a.repeat)
        rows.append(dict(case=f"eval_model_{model}", pairs=pairs, images=images, ms_median=1e3 * med, ms_min=1e3 * mn,
                         ms_per_image=1e3 * med / images))
    for r in rows:
        r.update(size=list(size), top_k=a.top_k, cores=len(os.sched_getaffinity(0)), repeat=a.repeat)
        print(json.dumps(r))
    print(f"\n{'case':26}{'pairs':>6}{'ms median':>11}{'baseline ms':>13}{'ratio':>8}")
    for r in rows:
        base = f"{r['baseline_ms_median']:13.1f}{r['speedup']:8.2f}" if "speedup" in r else f"{'':13}{'':8}"
        print(f"{r['case']:26}{r['pairs']:>6}{r['ms_median']:11.1f}{base}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
