#!/usr/bin/env python3
"""Turns Google Benchmark JSON from //bench:ops into the markdown results table of
bench/README.md: machine (the CPU named from this machine's /proc/cpuinfo, so run it where
the benchmark ran), date, commit, and per benchmark the time, the thread count and the
counters (GFLOP/s for matmuls, GB/s for memory-bound ops)."""
import json
import subprocess
import sys


def cpu_model():
    """The CPU's name from /proc/cpuinfo (ratios from different CPUs are not comparable)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def main(path):
    with open(path) as f:
        data = json.load(f)
    ctx = data["context"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"Machine: {cpu_model()}, {ctx.get('num_cpus')} x {ctx.get('mhz_per_cpu')} MHz, date {ctx.get('date')}, commit {commit}\n")
    print("| benchmark | threads | time | throughput |")
    print("|---|---|---|---|")
    for b in data["benchmarks"]:
        if b.get("error_occurred"):
            continue
        name = b["name"].replace("/real_time", "")
        parts = name.split("/")
        threads = next((p.split(":")[1] for p in parts if p.startswith("threads:")), "")
        label = "/".join(p for p in parts if not p.startswith("threads:"))
        unit = b.get("time_unit", "ns")
        time = f"{b['real_time']:.4g} {unit}"
        counters = []
        if "GFLOP/s" in b:
            counters.append(f"{b['GFLOP/s']:.1f} GFLOP/s")
        if "bytes_per_second" in b:
            counters.append(f"{b['bytes_per_second'] / 1e9:.1f} GB/s")
        if b["name"].startswith("BM_SeedModelTrainStep"):  # 600 steps make an epoch
            seconds = b["real_time"] * {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[unit]
            counters.append(f"{600 * seconds:.2f} s per 60,000-image epoch")
        if "items_per_second" in b and not counters:
            counters.append(f"{b['items_per_second']:.4g} items/s")
        print(f"| {label} | {threads} | {time} | {', '.join(counters)} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/dev/stdin")
