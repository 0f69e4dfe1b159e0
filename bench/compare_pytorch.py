#!/usr/bin/python3
"""Horn against PyTorch, side by side, in one run on the same cores.

  /usr/bin/python3 bench/compare_pytorch.py [--epochs 2] [--threads 2] [--data DIR]

Needs Debian's python3-torch (apt-get install python3-torch libopenblas0-pthread): a peer
to measure against, not a dependency of Horn. Run it with Debian's /usr/bin/python3, which
is the interpreter that package installs into. It is given its best set-up here: OpenBLAS
(libopenblas0-pthread switches libblas.so.3 to it) and OMP_WAIT_POLICY=passive, so that its
OpenMP and OpenBLAS threads do not fight over the cores.

1. The seed model (784-500 sigmoid-500 sigmoid-10 softmax, categorical cross-entropy,
   Adam lr 1e-3 eps 1e-7, glorot_uniform weights and zero biases, batch 100, shuffled every
   epoch) on the same MNIST IDX files: seconds per epoch, test accuracy and peak RSS of
   each, each in its own process. Horn's side runs the real example binary
   (bazel-bin/examples/mnist_mlp; build it first with `bazel build //examples:mnist_mlp`).
2. The op shapes of bench/ops_bench.cc in PyTorch, against Horn's //bench:ops results
   (bazel-bin/bench/ops), with the Horn/PyTorch time ratio (below 1: Horn is faster).
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def default_data_dir():
    root = os.environ.get("HORN_DATASETS") or os.path.expanduser("~/.horn/datasets")
    return os.path.join(root, "mnist")


def read_idx(path):
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    rank = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def run_child(cmd, env):
    """Runs cmd; returns (stdout, peak RSS in MiB) of that process alone."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"compare_pytorch: {' '.join(cmd)} failed:\n{out}")
    return out, usage.ru_maxrss / 1024.0


def pytorch_training(args):
    """Child process: trains the seed model in PyTorch; prints a JSON line."""
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(1234)
    d = args.data
    x_train = torch.from_numpy(read_idx(f"{d}/train-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
    y_train = torch.from_numpy(read_idx(f"{d}/train-labels-idx1-ubyte").astype(np.int64))
    x_test = torch.from_numpy(read_idx(f"{d}/t10k-images-idx3-ubyte").reshape(-1, 784).astype(np.float32) / 255)
    y_test = torch.from_numpy(read_idx(f"{d}/t10k-labels-idx1-ubyte").astype(np.int64))

    layers = [torch.nn.Linear(784, 500), torch.nn.Linear(500, 500), torch.nn.Linear(500, 10)]
    for layer in layers:  # Keras's defaults: glorot_uniform kernels, zero biases
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    model = torch.nn.Sequential(layers[0], torch.nn.Sigmoid(), layers[1], torch.nn.Sigmoid(), layers[2])
    loss_fn = torch.nn.CrossEntropyLoss()  # log-softmax + NLL, the fused stable form
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)

    start = time.perf_counter()
    for _ in range(args.epochs):
        order = torch.randperm(x_train.shape[0])
        for i in range(0, x_train.shape[0], 100):
            idx = order[i : i + 100]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
    print(json.dumps({"seconds_per_epoch": seconds / args.epochs, "test_accuracy": accuracy}))


def horn_training(args, env):
    binary = os.path.join(ROOT, "bazel-bin/examples/mnist_mlp")
    if not os.path.exists(binary):
        sys.exit("compare_pytorch: build Horn first: bazel build //examples:mnist_mlp //bench:ops")
    out, rss = run_child(
        [binary, f"--epochs={args.epochs}", f"--threads={args.threads}", f"--data={args.data}", "--verbose=0",
         "--save=/tmp/compare_pytorch_mnist.horn"], env)
    per_epoch = float(re.search(r"\(([0-9.]+) s per epoch\)", out).group(1))
    accuracy = float(re.search(r"Test accuracy: ([0-9.]+)", out).group(1))
    return {"seconds_per_epoch": per_epoch, "test_accuracy": accuracy, "rss_mib": rss}


# (Horn benchmark name prefix, PyTorch thunk) for the op comparison. PyTorch at its best:
# outputs preallocated (`out=`) wherever it offers that, because a fresh large output costs
# it page faults on every call (on this machine 160 ms for a 16M-element add instead of 4 ms).
def op_cases(torch):
    f = torch.float32

    def mm(m, k, n, ta, tb):
        a = torch.rand((k, m) if ta else (m, k), dtype=f)
        b = torch.rand((n, k) if tb else (k, n), dtype=f)
        c = torch.empty(m, n, dtype=f)
        return lambda: torch.matmul(a.t() if ta else a, b.t() if tb else b, out=c)

    def elementwise(n, fn):
        x, y, out = torch.rand(n, dtype=f), torch.rand(n, dtype=f), torch.empty(n, dtype=f)
        return lambda: fn(x, y, out)

    x1k, lab1k = torch.rand(128, 1000), torch.randint(0, 1000, (128,))
    x10, lab10 = torch.rand(100, 10), torch.randint(0, 10, (100,))
    big = torch.rand(1 << 24)
    bias_x, bias_b, bias_out = torch.rand(100, 500), torch.rand(500), torch.empty(100, 500)
    cases = []
    for m, k, n, ta, tb in [(100, 784, 500, 0, 0), (100, 500, 500, 0, 0), (100, 500, 10, 0, 0), (100, 500, 784, 0, 1),
                            (784, 100, 500, 1, 0), (500, 100, 500, 1, 0), (1024, 1024, 1024, 0, 0)]:
        cases.append((f"BM_MatMul/m:{m}/k:{k}/n:{n}/ta:{ta}/tb:{tb}/", mm(m, k, n, ta, tb)))
    for n in (1 << 20, 1 << 24):
        cases.append((f"BM_Add/n:{n}/", elementwise(n, lambda x, y, o: torch.add(x, y, out=o))))
        cases.append((f"BM_Mul/n:{n}/", elementwise(n, lambda x, y, o: torch.mul(x, y, out=o))))
        cases.append((f"BM_Sigmoid/n:{n}/", elementwise(n, lambda x, y, o: torch.sigmoid(x, out=o))))
        cases.append((f"BM_Relu/n:{n}/", elementwise(n, lambda x, y, o: torch.clamp_min(x, 0, out=o))))
        # sigmoid(a * b + a) in two passes: addcmul, then sigmoid in place.
        cases.append((f"BM_ElementwiseChain/n:{n}/optimize:1/",
                      elementwise(n, lambda x, y, o: torch.sigmoid_(torch.addcmul(x, x, y, out=o)))))
    cases.append(("BM_BiasAdd/", lambda: torch.add(bias_x, bias_b, out=bias_out)))
    cases.append(("BM_Softmax/rows:100/cols:10/", lambda: torch.softmax(x10, 1)))
    cases.append(("BM_Softmax/rows:128/cols:1000/", lambda: torch.softmax(x1k, 1)))
    ce = torch.nn.functional.cross_entropy
    cases.append(("BM_SoftmaxCrossEntropyWithLogits/rows:100/cols:10/", lambda: ce(x10, lab10, reduction="none")))
    cases.append(("BM_SoftmaxCrossEntropyWithLogits/rows:128/cols:1000/", lambda: ce(x1k, lab1k, reduction="none")))
    cases.append(("BM_Sum16M/", lambda: big.sum()))
    cases.append(("BM_Mean16M/", lambda: big.mean()))
    return cases


def time_thunk(thunk, min_seconds=0.3):
    thunk()
    n, start = 0, time.perf_counter()
    while True:
        thunk()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return elapsed / n


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=default_data_dir())
    parser.add_argument("--pytorch-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pytorch_worker:
        return pytorch_training(args)

    env = dict(os.environ, OMP_WAIT_POLICY="passive", OMP_NUM_THREADS=str(args.threads))
    env.pop("OPENBLAS_CORETYPE", None)  # both unset together, as the machine notes advise
    env.pop("OPENBLAS_L2_SIZE", None)
    try:
        import torch
    except ImportError:
        sys.exit("compare_pytorch: PyTorch is missing: apt-get install python3-torch libopenblas0-pthread, "
                 "then run with /usr/bin/python3")
    print(f"PyTorch {torch.__version__}, {args.threads} threads, {args.epochs} epochs, data {args.data}")

    print("\n== Seed model, one epoch of 60,000 images (batch 100, Adam) ==")
    horn = horn_training(args, env)
    out, rss = run_child([sys.executable, os.path.abspath(__file__), "--pytorch-worker", f"--epochs={args.epochs}",
                          f"--threads={args.threads}", f"--data={args.data}"], env)
    torch_result = json.loads(out.strip().splitlines()[-1])
    torch_result["rss_mib"] = rss
    print(f"{'':10} {'s/epoch':>10} {'test acc':>10} {'peak RSS MiB':>14}")
    for name, r in (("Horn", horn), ("PyTorch", torch_result)):
        print(f"{name:10} {r['seconds_per_epoch']:10.3f} {r['test_accuracy']:10.4f} {r['rss_mib']:14.0f}")
    print(f"{'Horn/PyTorch':10} {horn['seconds_per_epoch'] / torch_result['seconds_per_epoch']:10.3f} "
          f"{'':10} {horn['rss_mib'] / torch_result['rss_mib']:14.3f}")

    print(f"\n== Ops ({args.threads} threads): time per call ==")
    torch.set_num_threads(args.threads)
    bench = os.path.join(ROOT, "bazel-bin/bench/ops")
    out, _ = run_child([bench, f"--benchmark_filter=/threads:{args.threads}/", "--benchmark_format=json",
                        "--benchmark_min_time=0.2"], env)
    horn_ops = {b["name"]: b for b in json.loads(out[out.index("{"):])["benchmarks"]}
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    print(f"{'op':58} {'Horn us':>10} {'PyTorch us':>11} {'Horn/PyTorch':>13}")
    for prefix, thunk in op_cases(torch):
        name = f"{prefix}threads:{args.threads}/real_time"
        if name not in horn_ops:
            continue
        h = horn_ops[name]["real_time"] * scale[horn_ops[name]["time_unit"]]
        t = time_thunk(thunk)
        print(f"{prefix.rstrip('/'):58} {h * 1e6:10.1f} {t * 1e6:11.1f} {h / t:13.2f}")


if __name__ == "__main__":
    main()
