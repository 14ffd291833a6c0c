#!/usr/bin/python3
"""Two kpt-bench-micro binaries side by side: before and after a kernel change.

Runs A and B alternately (A, B, A, B, ...) so that both see the same load on a shared machine,
then prints per benchmark the best and median time of each, the speed-up B over A (best against
best) and the best fraction of the FMA peak each reached (measured in the same run).

    python3 bench/ab_micro.py OLD/kpt-bench-micro NEW/kpt-bench-micro \\
        --filter 'conv2d_(fwd|bwd_input)<kpt::cpu>/shape:[01]/' [--rounds 5]

Build the old binary from a worktree: git worktree add /tmp/old REV && cmake -S /tmp/old -B
/tmp/old/build -DCMAKE_BUILD_TYPE=Release && cmake --build /tmp/old/build --target kpt-bench-micro.
"""
import argparse
import json
import math
import os
import statistics
import subprocess
import sys


def run(exe, filt):
    """One run of exe over the benchmarks matching filt: {name: (ms, peak fraction)}."""
    if not os.access(exe, os.X_OK):
        sys.exit(f"{exe}: not an executable; build it with `make build` (target kpt-bench-micro)")
    proc = subprocess.run([exe, f"--benchmark_filter={filt}", "--benchmark_format=json"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"{exe} failed (exit {proc.returncode}):\n{proc.stderr}")
    if not proc.stdout.strip():  # Google Benchmark prints nothing when the filter matches nothing
        sys.exit(f"{exe}: no benchmark matches --filter '{filt}' (list them with --benchmark_list_tests)")
    out = {}
    for bm in json.loads(proc.stdout)["benchmarks"]:
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[bm.get("time_unit", "ns")]
        out[bm["name"]] = (bm["real_time"] * scale, bm.get("peak_frac", float("nan")))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="the baseline kpt-bench-micro")
    ap.add_argument("b", help="the kpt-bench-micro to compare with it")
    ap.add_argument("--filter", required=True, help="Google Benchmark filter (a regex over names)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating runs of each binary (default 5)")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    times = {args.a: {}, args.b: {}}
    for r in range(args.rounds):
        for exe in (args.a, args.b):
            for name, sample in run(exe, args.filter).items():
                times[exe].setdefault(name, []).append(sample)
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)

    print("| benchmark | A best ms | A median | B best ms | B median | B over A | A peak frac | B peak frac |")
    print("|---|---|---|---|---|---|---|---|")
    for name, sa in times[args.a].items():
        sb = times[args.b].get(name)
        if not sb:
            print(f"| {name} | (not in B) |")
            continue
        ta, tb = [t for t, _ in sa], [t for t, _ in sb]
        # Benchmarks without a peak_frac counter (pooling, matching) show "-".
        frac = lambda s: "-" if any(math.isnan(f) for _, f in s) else f"{max(f for _, f in s):.2f}"
        print(f"| {name} | {min(ta):.2f} | {statistics.median(ta):.2f} | {min(tb):.2f} | "
              f"{statistics.median(tb):.2f} | {min(ta) / min(tb):.2f}x | {frac(sa)} | {frac(sb)} |")


if __name__ == "__main__":
    main()
