#!/usr/bin/python3
"""kpt against PyTorch on the same CPU, side by side in one run (issue 7).

Runs every case of build/bin/kpt-bench (one JSON line each) and the same case in PyTorch
(Debian's python3-torch, models from tools/torch_models.py, the same thread count), then prints
the ratio table and, with --save, writes bench/results/<date>-<host>-<arch>-<commit>.{jsonl,md}
(never overwriting an earlier file: a repeated run gets -2, -3, ...).

    /usr/bin/python3 bench/compare_torch.py [--kpt build/bin/kpt-bench] [--threads 2]
                                            [--case NAME] [--repeat R] [--rounds N] [--save]
"""
import argparse
import datetime
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))

import torch  # noqa: E402

import torch_models  # noqa: E402

CASES = {
    # name: (kind, model, variant, H, W)
    "infer_superpoint_240": ("infer", "superpoint", "magicleap", 240, 320),
    "infer_superpoint_480": ("infer", "superpoint", "magicleap", 480, 640),
    "infer_keypointnet_240": ("infer", "keypointnet", "v4", 240, 320),
    "infer_keypointnet_480": ("infer", "keypointnet", "v4", 480, 640),
    "train_superpoint_240_b8": ("train", "superpoint", "magicleap", 240, 320),
    "train_keypointnet_240_b8": ("train", "keypointnet", "v4", 240, 320),
}


def torch_step(name):
    """The timed PyTorch step of a case (built once), mirroring bench/macro/workloads.hpp."""
    kind, model, variant, h, w = CASES[name]
    torch.manual_seed(1)
    net, family = torch_models.build(model, variant)
    if kind == "infer":
        net.eval()
        c = 3 if family == "keypointnet" else 1
        x = torch.rand(1, c, h, w)
        if family == "keypointnet":
            x = torch_models.kp2d_normalize(x)

        def step():
            with torch.no_grad():
                net(x)
        return step
    import torch_train_steps  # noqa: E402  (bench/torch_train_steps.py: the losses in torch)
    return torch_train_steps.make(family, net, h, w)


def time_torch(name, repeat):
    step = torch_step(name)
    step()
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        step()
        ms.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ms), peak_rss_mb()


def peak_rss_mb():
    """This process's own peak RSS (VmHWM, counted from exec; ru_maxrss carries the parent's over exec)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_kpt(binary, name, threads, repeat):
    cmd = [binary, "--case", name, "--threads", str(threads)]
    if repeat:
        cmd += ["--repeat", str(repeat)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kpt", default=os.path.join(ROOT, "build", "bin", "kpt-bench"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--case", action="append", help="run only this case (repeatable)")
    ap.add_argument("--repeat", type=int, default=0, help="timed repetitions (default: kpt's per case)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run kpt and PyTorch alternately this many times per case and report the "
                         "median round and the range of the per-round ratios (steadier on a busy machine)")
    ap.add_argument("--torch-only", action="store_true", help="do not run kpt-bench")
    ap.add_argument("--save", action="store_true", help="write bench/results/<date>-<host>-<arch>-<commit>.{jsonl,md}")
    a = ap.parse_args()
    if a.rounds < 1:
        sys.exit(f"compare_torch: --rounds must be at least 1, got {a.rounds}")
    if not a.torch_only and not os.access(a.kpt, os.X_OK):
        sys.exit(f"compare_torch: {a.kpt} is not built (cmake --build build --target kpt-bench)")
    torch.set_num_threads(a.threads)
    known = subprocess.run([a.kpt, "--list"], check=True, capture_output=True, text=True).stdout.split() \
        if not a.torch_only else list(CASES)
    names = a.case or [n for n in CASES if n in known]
    rows = []
    for name in names:
        if name not in CASES:
            sys.exit(f"compare_torch: unknown case '{name}' (one of {', '.join(CASES)})")
        ks, ts = [], []
        for _ in range(a.rounds):
            k = None if a.torch_only else run_kpt(a.kpt, name, a.threads, a.repeat)
            repeat = a.repeat or (k["repeat"] if k else 5)
            # Each torch case in a child process, so its peak RSS is its own (as kpt-bench does).
            child = subprocess.run([sys.executable, __file__, "--_torch_case", name, "--_repeat", str(repeat),
                                    "--_threads", str(a.threads)], check=True, capture_output=True, text=True)
            ks.append(k)
            ts.append(json.loads(child.stdout.strip().splitlines()[-1]))
        # kpt: the round with the median time (its peak fraction comes with it); PyTorch: the median of
        # its rounds. RSS: the largest of the rounds.
        k = sorted(ks, key=lambda r: r["ms_median"])[len(ks) // 2] if ks[0] else None
        t_ms = statistics.median(t["ms"] for t in ts)
        row = dict(case=name, threads=a.threads, rounds=a.rounds, torch_ms=t_ms,
                   torch_rss_mb=max(t["rss_mb"] for t in ts))
        if k:
            ratios = [t["ms"] / kr["ms_median"] for kr, t in zip(ks, ts)]
            row.update(kpt_ms=k["ms_median"], kpt_rss_mb=max(kr["peak_rss_mb"] for kr in ks),
                       speedup=t_ms / k["ms_median"], speedup_min=min(ratios), speedup_max=max(ratios),
                       kpt_peak_fraction=k["peak_fraction"], gflop=k["gflop"], peak_gflops=k["peak_gflops"],
                       torch_peak_fraction=k["gflop"] / (t_ms * 1e-3) / k["peak_gflops"])
        rows.append(row)
        print(json.dumps(row), flush=True)
    table = ["| case | kpt ms | PyTorch ms | kpt / PyTorch throughput | per-round range | kpt peak | PyTorch peak "
             "| kpt RSS MB | PyTorch RSS MB |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "kpt_ms" in r:
            table.append(f"| {r['case']} | {r['kpt_ms']:.1f} | {r['torch_ms']:.1f} | {r['speedup']:.2f}x | "
                         f"{r['speedup_min']:.2f}-{r['speedup_max']:.2f}x | "
                         f"{r['kpt_peak_fraction']:.0%} | {r['torch_peak_fraction']:.0%} | {r['kpt_rss_mb']:.0f} | "
                         f"{r['torch_rss_mb']:.0f} |")
        else:
            table.append(f"| {r['case']} | | {r['torch_ms']:.1f} | | | | | | {r['torch_rss_mb']:.0f} |")
    print("\n".join(table))
    if a.save:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        # The instruction set kpt's kernels ran with (kpt-bench's "arch") tells machines apart that share
        # a host name.
        arch = next((k["arch"] for k in ks if k and "arch" in k), None)
        # KPT_CONV_BF16 (kpt-bench's "conv_bf16", "0" when off) marks a run of the bf16 inference path.
        bf16 = next((k["conv_bf16"] for k in ks if k and k.get("conv_bf16", "0") != "0"), None)
        # The commit measured, so that a later run on the same day and machine does not overwrite it.
        commit = kpt_commit()
        stem = os.path.join(HERE, "results", f"{datetime.date.today()}-{socket.gethostname()}" +
                            (f"-{arch}" if arch else "") + (f"-bf16{bf16}" if bf16 else "") +
                            (f"-{commit}" if commit else ""))
        base, n = stem, 1
        while os.path.exists(stem + ".md") or os.path.exists(stem + ".jsonl"):
            n += 1
            stem = f"{base}-{n}"
        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        head = (f"# kpt vs PyTorch {torch.__version__}, {datetime.datetime.now():%Y-%m-%d %H:%M}\n\n"
                f"kpt commit: {commit or '?'}. "
                f"Machine: {cpu}, {os.cpu_count()} cores, {platform.platform()}; kpt kernels: {arch or '?'}" +
                (f", KPT_CONV_BF16={bf16} (bf16 on vdpbf16ps: {next(k['bf16_dot'] for k in ks if k)})" if bf16 else "") +
                f"; threads {a.threads}.\n"
                f"Command: {f'KPT_CONV_BF16={bf16} ' if bf16 else ''}/usr/bin/python3 bench/compare_torch.py "
                f"--threads {a.threads} --rounds {a.rounds}" + "".join(f" --case {c}" for c in a.case or []) +
                " --save\n\n")
        for path, text in ((stem + ".jsonl", "".join(json.dumps(r) + "\n" for r in rows)),
                           (stem + ".md", head + "\n".join(table) + "\n")):
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
        print(f"wrote {stem}.jsonl and {stem}.md")


def kpt_commit():
    """The checkout's short commit, + "-dirty" with uncommitted changes; None outside git."""
    try:
        run = lambda *cmd: subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
        sha = run("git", "rev-parse", "--short", "HEAD")
        return sha + ("-dirty" if run("git", "status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def torch_child():
    ap = argparse.ArgumentParser()
    ap.add_argument("--_torch_case")
    ap.add_argument("--_repeat", type=int)
    ap.add_argument("--_threads", type=int)
    a = ap.parse_args()
    torch.set_num_threads(a._threads)
    ms, rss = time_torch(a._torch_case, a._repeat)
    print(json.dumps(dict(ms=ms, rss_mb=rss)))


if __name__ == "__main__":
    if "--_torch_case" in sys.argv:
        torch_child()
    else:
        main()
