#!/usr/bin/python3
"""Horn against PyTorch, side by side, in one run on the same cores.

  /usr/bin/python3 bench/compare_pytorch.py                      # seed_mlp and mnist_cnn, then the ops
  /usr/bin/python3 bench/compare_pytorch.py --models mnist_cnn --epochs 2 --json /tmp/cmp.json
  /usr/bin/python3 bench/compare_pytorch.py --quick               # smoke run on a 6,144-image subset
  /usr/bin/python3 bench/compare_pytorch.py --quick --pytorch-only --models mnist_cnn

Options: --models (comma-separated, default seed_mlp,mnist_cnn; also seed_mlp_bf16,
mnist_cnn_bf16), --epochs N (default per model: 2 for seed_mlp, 1 for mnist_cnn), --threads
(default 2), --data DIR, --json FILE, --quick, --pytorch-only, --require-all, --no-ops,
--tune-steps N, --tune-rounds N, --openblas-coretype auto|keep|NAME, --horn-bin DIR (default:
this checkout's bazel-bin).

Needs Debian's python3-torch and libopenblas0-pthread (apt-get install python3-torch
libopenblas0-pthread): a peer to measure against, not a dependency of Horn. Run it with
Debian's /usr/bin/python3, the interpreter that package installs into. Build Horn's side
first: bazel build //examples:mnist_mlp //examples:keras_mnist_cnn //bench:ops

Models, the same settings on both sides, on the same MNIST IDX files:
- seed_mlp: 784-500 sigmoid-500 sigmoid-10 softmax, categorical cross-entropy, Adam lr 1e-3
  eps 1e-7, glorot_uniform weights, zero biases, batch 100, shuffled every epoch. Horn's side
  is bazel-bin/examples/mnist_mlp; its epoch is training only.
- mnist_cnn (Keras's examples/mnist_cnn.py): Conv2D 32 3x3 relu, Conv2D 64 3x3 relu,
  MaxPooling2D 2x2, Dropout 0.25, Flatten, Dense 128 relu, Dropout 0.5, Dense 10 softmax;
  categorical cross-entropy; Adadelta lr 1.0 rho 0.95 eps 1e-7 (Keras 2.3's defaults);
  glorot_uniform kernels (fan over the receptive field), zero biases; batch 128; images in
  [0,1]. Horn runs NHWC (bazel-bin/examples/keras_mnist_cnn); PyTorch runs NCHW, its native
  layout. Horn's epoch time comes from its Keras-style progress line; when that line shows
  val_ metrics the epoch includes a pass over the test set, and PyTorch's epoch then does too.
- seed_mlp_bf16, mnist_cnn_bf16 (not run by default): PyTorch under
  torch.cpu.amp.autocast(dtype=torch.bfloat16) around forward and loss; Horn's side is the
  same binary with --mixed_bfloat16 (skipped with a message while the binary lacks the flag).

PyTorch at its best on this machine. OpenBLAS (its float32 matmul) is checked for the kernel
it picks: the machine may set OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE globally (for older OpenBLAS
builds); both are unset together for the probe, and if OpenBLAS then falls back to a kernel
below the CPU's vector width (0.3.21 does not know every new model and falls back to
Prescott/SSE3), OPENBLAS_CORETYPE=SkylakeX (AVX-512) or Haswell (AVX2) is set and checked.
Then each thread configuration (torch threads 1 and N x OPENBLAS_NUM_THREADS 1 and N x
OMP_WAIT_POLICY passive/active; OpenBLAS's threads fight PyTorch's OpenMP threads at N) is
timed over --tune-steps training steps (median step, in its own process), and the full
measurement runs with the fastest; the report says which.

--quick trains on the first 6,144 training images and tests on the first 1,024 test images
(the same 6:1 ratio as 60,000:10,000, so a validation pass scales with the epoch). Its
s/epoch figures are ESTIMATES scaled by 60,000/6,144 and labelled so; test accuracies are on
the 1,024-image subset after a short training. Timings on a shared machine drift by 20-40%
between runs: compare the ratio measured within one run.

Seed-model op shapes (bench/ops_bench.cc) are also timed in PyTorch against Horn's //bench:ops
results (bazel-bin/bench/ops) with the Horn/PyTorch ratio (below 1: Horn is faster), in
PyTorch's best seed_mlp configuration; --no-ops skips that.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FULL_TRAIN, FULL_TEST = 60000, 10000
QUICK_TRAIN, QUICK_TEST = 6144, 1024  # 48 batches of 128; the same 6:1 ratio as the full set

# name -> how each side runs it. "horn_flags" are added to Horn's command line.
MODELS = {
    "seed_mlp": {"arch": "mlp", "batch": 100, "epochs": 2, "bf16": False,
                 "binary": "examples/mnist_mlp", "target": "//examples:mnist_mlp",
                 "horn_flags": ["--verbose=0", "--save=/tmp/compare_pytorch_mnist.horn"]},
    "mnist_cnn": {"arch": "cnn", "batch": 128, "epochs": 1, "bf16": False,
                  "binary": "examples/keras_mnist_cnn", "target": "//examples:keras_mnist_cnn",
                  "horn_flags": []},
    "seed_mlp_bf16": {"arch": "mlp", "batch": 100, "epochs": 2, "bf16": True,
                      "binary": "examples/mnist_mlp", "target": "//examples:mnist_mlp",
                      "horn_flags": ["--verbose=0", "--save=/tmp/compare_pytorch_mnist_bf16.horn",
                                     "--mixed_bfloat16=1"]},
    "mnist_cnn_bf16": {"arch": "cnn", "batch": 128, "epochs": 1, "bf16": True,
                       "binary": "examples/keras_mnist_cnn", "target": "//examples:keras_mnist_cnn",
                       "horn_flags": ["--mixed_bfloat16=1"]},
}
DEFAULT_MODELS = "seed_mlp,mnist_cnn"
# Horn flags that may be dropped (with a note) if an example binary does not know them.
OPTIONAL_HORN_FLAGS = {"threads", "verbose", "save"}


class Skip(Exception):
    """A model that cannot be measured in this run (the message says why and what to do)."""


# ---------------------------------------------------------------------------------------------
# Data


def default_data_dir():
    root = os.environ.get("HORN_DATASETS") or os.path.expanduser("~/.horn/datasets")
    return os.path.join(root, "mnist")


IDX_FILES = {"train_x": "train-images-idx3-ubyte", "train_y": "train-labels-idx1-ubyte",
             "test_x": "t10k-images-idx3-ubyte", "test_y": "t10k-labels-idx1-ubyte"}


def read_idx(path):
    import numpy as np

    with open(path, "rb") as f:
        data = f.read()
    rank = int.from_bytes(data[0:4], "big") & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    with open(path, "wb") as f:
        f.write(header + array.tobytes())


def make_subset(data_dir, n_train, n_test):
    """Writes the first n_train/n_test images of data_dir as IDX files; returns their folder."""
    out = f"/tmp/compare_pytorch_mnist_{n_train}_{n_test}"
    os.makedirs(out, exist_ok=True)
    for key, name in IDX_FILES.items():
        n = n_train if key.startswith("train") else n_test
        write_idx(os.path.join(out, name), read_idx(os.path.join(data_dir, name))[:n])
    return out


def load_mnist(data_dir, arch):
    """Training and test tensors, images scaled to [0,1]: [N,784] (mlp) or NCHW [N,1,28,28] (cnn)."""
    import numpy as np
    import torch

    shape = (-1, 784) if arch == "mlp" else (-1, 1, 28, 28)

    def images(key):
        return torch.from_numpy(read_idx(os.path.join(data_dir, IDX_FILES[key])).reshape(shape).astype(np.float32) / 255)

    def labels(key):
        return torch.from_numpy(read_idx(os.path.join(data_dir, IDX_FILES[key])).astype(np.int64))

    return images("train_x"), labels("train_y"), images("test_x"), labels("test_y")


# ---------------------------------------------------------------------------------------------
# PyTorch side (runs in a child process whose environment carries the thread configuration)


def glorot_zero(module):
    """Keras's defaults: glorot_uniform kernels (xavier_uniform_ uses the receptive field's fan
    for a convolution, as Keras does) and zero biases."""
    import torch

    if isinstance(module, (torch.nn.Linear, torch.nn.Conv2d)):
        torch.nn.init.xavier_uniform_(module.weight)
        torch.nn.init.zeros_(module.bias)


def build_pytorch(arch):
    """(model producing logits, optimizer factory). Softmax is folded into CrossEntropyLoss."""
    import torch

    nn = torch.nn
    if arch == "mlp":
        model = nn.Sequential(nn.Linear(784, 500), nn.Sigmoid(), nn.Linear(500, 500), nn.Sigmoid(), nn.Linear(500, 10))
        make_opt = lambda p: torch.optim.Adam(p, lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    else:
        model = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.25),
            nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10))
        make_opt = lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.95, eps=1e-7)
    model.apply(glorot_zero)
    return model, make_opt


def autocast(bf16):
    import contextlib
    import torch

    return torch.cpu.amp.autocast(dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def train_step(model, opt, loss_fn, x, y, bf16):
    opt.zero_grad(set_to_none=True)
    with autocast(bf16):
        loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


def evaluate(model, loss_fn, x, y, batch, bf16):
    """(mean loss, accuracy) in inference mode (no dropout), batch by batch."""
    import torch

    model.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad(), autocast(bf16):
        for i in range(0, x.shape[0], batch):
            logits = model(x[i: i + batch])
            total_loss += loss_fn(logits, y[i: i + batch]).item() * logits.shape[0]
            correct += (logits.argmax(1) == y[i: i + batch]).sum().item()
    model.train()
    return total_loss / x.shape[0], correct / x.shape[0]


def pytorch_worker(args):
    """Child process: --tune-steps K times K steps (median step); otherwise trains --epochs full
    epochs, timing training and a validation pass over the test set separately. Prints JSON."""
    import torch

    spec = MODELS[args.pytorch_worker]
    torch.set_num_threads(args.torch_threads)
    torch.manual_seed(1234)
    x_train, y_train, x_test, y_test = load_mnist(args.data, spec["arch"])
    model, make_opt = build_pytorch(spec["arch"])
    opt, loss_fn, batch, bf16 = make_opt(model.parameters()), torch.nn.CrossEntropyLoss(), spec["batch"], spec["bf16"]
    result = {"torch_threads": torch.get_num_threads(), "openblas": openblas_info()}

    if args.tune_steps:
        order = torch.randperm(x_train.shape[0])
        times = []
        for step in range(3 + args.tune_steps):  # 3 warm-up steps
            idx = order[(step * batch) % (x_train.shape[0] - batch):][:batch]
            start = time.perf_counter()
            train_step(model, opt, loss_fn, x_train[idx], y_train[idx], bf16)
            times.append(time.perf_counter() - start)
        result["step_seconds"] = statistics.median(times[3:])
    else:
        train_s, val_s = [], []
        for _ in range(args.epochs):
            start = time.perf_counter()
            order = torch.randperm(x_train.shape[0])
            for i in range(0, x_train.shape[0], batch):
                idx = order[i: i + batch]
                train_step(model, opt, loss_fn, x_train[idx], y_train[idx], bf16)
            train_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            evaluate(model, loss_fn, x_test, y_test, batch, bf16)
            val_s.append(time.perf_counter() - start)
        result.update(train_seconds=train_s, validation_seconds=val_s, train_samples=x_train.shape[0],
                      test_accuracy=evaluate(model, loss_fn, x_test, y_test, batch, bf16)[1])
    print(json.dumps(result))


def openblas_info():
    """{"core": kernel OpenBLAS picked, "threads": its thread count, "library": path}, or {} when
    the process has no OpenBLAS loaded (then PyTorch's float32 matmul is reference BLAS)."""
    import ctypes

    with open("/proc/self/maps") as f:
        libs = sorted({line.split()[-1] for line in f if "openblas" in line and ".so" in line})
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return {"core": lib.openblas_get_corename().decode(), "threads": lib.openblas_get_num_threads(),
                    "library": path}
        except (OSError, AttributeError):
            continue
    return {}


def probe_worker():
    """Child process: which torch, which BLAS, which OpenBLAS kernel, under this environment."""
    import torch

    torch.matmul(torch.rand(64, 64), torch.rand(64, 64))  # makes sure the BLAS is loaded
    with open("/proc/self/maps") as f:
        blas = sorted({line.split()[-1] for line in f if "blas" in line and ".so" in line})
    print(json.dumps({"torch": torch.__version__, "blas_libraries": blas, "openblas": openblas_info()}))


# ---------------------------------------------------------------------------------------------
# Child processes and PyTorch's configuration


def run_child(cmd, env):
    """Runs cmd; returns (exit code, combined output, peak RSS in MiB, wall seconds)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    return os.waitstatus_to_exitcode(status), out, usage.ru_maxrss / 1024.0, time.perf_counter() - start


def run_json_child(cmd, env):
    code, out, rss, _ = run_child(cmd, env)
    if code != 0:
        sys.exit(f"compare_pytorch: {' '.join(cmd)} failed (exit {code}):\n{out}")
    return json.loads(out.strip().splitlines()[-1]), rss


def self_cmd(*flags):
    return [sys.executable, os.path.abspath(__file__), *flags]


def cpu_info():
    """The first CPU's /proc/cpuinfo fields (key -> value)."""
    info = {}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if not line.strip():
                break
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    return info


def cpu_flags():
    return set(cpu_info().get("flags", "").split())


def cpu_description():
    """Which CPU this ran on. Sessions have run on different machines (an Intel Xeon with AMX,
    an AMD EPYC without), and the bfloat16 rows depend on AMX: ratios from different CPUs are
    not comparable."""
    info = cpu_info()
    flags = set(info.get("flags", "").split())
    isa = [f for f in ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile") if f in flags]
    return {"model_name": info.get("model name", "?"), "vendor": info.get("vendor_id", "?"),
            "family": info.get("cpu family", "?"), "model": info.get("model", "?"),
            "cpus": os.cpu_count(), "isa": isa}


def choose_openblas_env(mode):
    """The OPENBLAS_* variables for PyTorch's processes, and a note saying how they were chosen."""
    base = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    ambient = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    if mode == "keep":
        return dict(os.environ), f"OPENBLAS_* kept as the environment has them: {ambient or 'none set'}"
    if mode != "auto":
        return dict(base, OPENBLAS_CORETYPE=mode), f"OPENBLAS_CORETYPE={mode} (from --openblas-coretype)"
    probe, _ = run_json_child(self_cmd("--probe-worker"), base)
    if not probe["openblas"]:
        sys.exit("compare_pytorch: PyTorch's float32 matmul is not on OpenBLAS here (BLAS: "
                 f"{probe['blas_libraries']}); that is a crippled peer. Install it: "
                 "apt-get install libopenblas0-pthread")
    core = probe["openblas"]["core"]
    flags = cpu_flags()
    want = "SkylakeX" if "avx512f" in flags else "Haswell" if "avx2" in flags else None
    good = {"SkylakeX": {"skylakex", "cooperlake", "sapphirerapids"},
            "Haswell": {"haswell", "zen", "skylakex", "cooperlake", "sapphirerapids"}}.get(want, {core.lower()})
    note = f"unset the machine's {ambient} for the probe; " if ambient else ""
    if core.lower() in good:
        return base, f"{note}OpenBLAS picks {core} by itself: OPENBLAS_CORETYPE left unset"
    env = dict(base, OPENBLAS_CORETYPE=want)
    probe, _ = run_json_child(self_cmd("--probe-worker"), env)
    if probe["openblas"]["core"].lower() != want.lower():
        sys.exit(f"compare_pytorch: OPENBLAS_CORETYPE={want} did not take: OpenBLAS runs {probe['openblas']['core']}")
    return env, f"{note}OpenBLAS fell back to {core} for this CPU: set OPENBLAS_CORETYPE={want}"


def thread_configs(n):
    """(torch threads, OPENBLAS_NUM_THREADS, OMP_WAIT_POLICY) to try. With one torch thread the
    OpenMP wait policy does not matter, so only passive is tried there."""
    configs = []
    for torch_threads in sorted({1, n}):
        for blas_threads in sorted({1, n}):
            for wait in ("passive", "active") if torch_threads > 1 else ("passive",):
                configs.append((torch_threads, blas_threads, wait))
    return configs


def config_env(base, config):
    torch_threads, blas_threads, wait = config
    return dict(base, OMP_NUM_THREADS=str(torch_threads), OPENBLAS_NUM_THREADS=str(blas_threads), OMP_WAIT_POLICY=wait)


def describe(config):
    return f"torch threads {config[0]}, OPENBLAS_NUM_THREADS={config[1]}, OMP_WAIT_POLICY={config[2]}"


def tune_pytorch(name, args, base_env):
    """Times tune_steps training steps of `name` in each thread configuration (each in its own
    process; the median step), over tune_rounds rounds, every other one in reverse order so that
    a drift in the machine's load hits the configurations alike; returns the fastest by its best
    round."""
    configs = thread_configs(args.threads)
    print(f"  tuning PyTorch: {args.tune_steps} steps per configuration, median step, best of {args.tune_rounds} "
          f"round(s), ms/step:")
    best = {c: float("inf") for c in configs}
    for round_ in range(args.tune_rounds):
        for config in configs if round_ % 2 == 0 else configs[::-1]:
            r, _ = run_json_child(self_cmd("--pytorch-worker", name, f"--tune-steps={args.tune_steps}",
                                           f"--torch-threads={config[0]}", f"--data={args.data_dir}"),
                                  config_env(base_env, config))
            best[config] = min(best[config], r["step_seconds"])
    for config in configs:
        print(f"    {describe(config):62} {best[config] * 1e3:9.2f}")
    return min(configs, key=best.get)


# ---------------------------------------------------------------------------------------------
# Horn side


EPOCH_HEADER = re.compile(r"^\s*Epoch \d+/\d+\s*$")
# An epoch's final progress line: verbose 1, "60000/60000 [====] - 45s 750us/step - loss: ..."
# (Keras 2.3 and Horn count samples but say "step", tf.keras 1.x says "us/sample", tf.keras 2
# counts steps and prints "96ms/step"); verbose 2,
# " - 45s - loss: ...". Redraws with an ETA are not final.
EPOCH_LINE = re.compile(r"(?:(\d+)/(\d+)\s*\[[^\]]*\])?\s*- (\d+)s(?:\s+([0-9.]+)(s|ms|us|µs|ns)/(?:sample|step))?\b")
UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def epoch_line_seconds(line):
    """Seconds of one epoch from its final progress line, or None if the line is not one."""
    m = EPOCH_LINE.match(line)
    if not m or "ETA" in line:
        return None
    # Per-unit time x count gives sub-second precision when the per-unit figure has three
    # digits ("750us/step"); "2ms/step" is rounded by up to 25%, so whole seconds are better.
    if m.group(4) and m.group(2) and float(m.group(4)) >= 100:
        return float(m.group(4)) * UNITS[m.group(5)] * int(m.group(2))
    return float(m.group(3))


def parse_horn_epoch_seconds(out):
    """(seconds per epoch, where from, whether it includes a validation pass) from a Horn
    example's output, in order: mnist_mlp's "Training time: T s (S s per epoch)"; Keras-style
    progress lines, averaged over the epochs; (None, None, False)."""
    m = re.search(r"Training time: [0-9.e+-]+ s \(([0-9.e+-]+) s per epoch\)", out)
    if m:
        return float(m.group(1)), "training time printed by the binary", False
    lines = re.split(r"[\r\n]+", out)
    per_epoch, validation = [], False
    for i, line in enumerate(lines):
        if not EPOCH_HEADER.match(line):
            continue
        for follow in lines[i + 1:]:
            if EPOCH_HEADER.match(follow):
                break
            seconds = epoch_line_seconds(follow)
            if seconds is not None:
                per_epoch.append(seconds)
                validation = validation or "val_" in follow
                break
    if per_epoch:
        return statistics.mean(per_epoch), f"Keras-style progress lines, mean of {len(per_epoch)} epoch(s)", validation
    return None, None, False


def horn_command(spec, args, epochs):
    binary = os.path.join(args.horn_bin, spec["binary"])
    if not os.path.exists(binary):
        raise Skip(f"Horn's {binary} is missing: build it with `bazel build {spec['target']}`")
    return [binary, f"--epochs={epochs}", f"--threads={args.threads}", f"--data={args.data_dir}", *spec["horn_flags"]]


def horn_training(name, args, epochs):
    """Runs Horn's example binary; returns its seconds per epoch, test accuracy, peak RSS."""
    spec = MODELS[name]
    cmd = horn_command(spec, args, epochs)
    while True:
        code, out, rss, wall = run_child(cmd, dict(os.environ))
        unknown = re.search(r"unknown flag --([A-Za-z0-9_]+)", out)
        if code == 0 or not unknown:
            break
        flag = unknown.group(1)
        if flag == "mixed_bfloat16":
            raise Skip(f"{spec['binary']} has no --mixed_bfloat16 yet: Horn's bfloat16 side is not available")
        if flag not in OPTIONAL_HORN_FLAGS:
            raise Skip(f"{spec['binary']} does not accept --{flag}, which this comparison needs")
        print(f"  note: {spec['binary']} has no --{flag}; running it without")
        cmd = [c for c in cmd if not c.startswith(f"--{flag}=")]
    if code != 0:
        sys.exit(f"compare_pytorch: {' '.join(cmd)} failed (exit {code}):\n{out}")
    seconds, source, validation = parse_horn_epoch_seconds(out)
    if seconds is None:
        seconds, source = wall / epochs, "process wall time / epochs (includes start-up, data loading, test)"
        validation = True
    accuracy = re.search(r"Test accuracy: ([0-9.eE+-]+)", out)
    if not accuracy:
        sys.exit(f"compare_pytorch: no 'Test accuracy:' in the output of {' '.join(cmd)}:\n{out}")
    return {"seconds_per_epoch": seconds, "time_source": source, "includes_validation": validation,
            "test_accuracy": float(accuracy.group(1)), "rss_mib": rss}


# ---------------------------------------------------------------------------------------------
# One model, both sides


def pytorch_training(name, args, openblas_env, epochs):
    """Tunes PyTorch's threads for `name` (unless --tune-steps 0), then trains it in the best
    configuration; returns the worker's result with its configuration and peak RSS."""
    config = tune_pytorch(name, args, openblas_env) if args.tune_steps else (args.threads, 1, "passive")
    env = config_env(openblas_env, config)
    r, rss = run_json_child(self_cmd("--pytorch-worker", name, f"--epochs={epochs}", f"--torch-threads={config[0]}",
                                     f"--data={args.data_dir}"), env)
    spec = MODELS[name]
    r["rss_mib"] = rss
    r["config"] = {"torch_threads": config[0], "OPENBLAS_NUM_THREADS": config[1], "OMP_WAIT_POLICY": config[2],
                   "OPENBLAS_CORETYPE": env.get("OPENBLAS_CORETYPE"), "openblas_core": r["openblas"].get("core"),
                   "layout": "NCHW" if spec["arch"] == "cnn" else None,
                   "autocast": "bfloat16" if spec["bf16"] else None, "tuned": bool(args.tune_steps),
                   "description": describe(config)}
    return r


def compare_model(name, args, openblas_env):
    """Measures one model on both sides; returns its JSON entry (or raises Skip)."""
    spec = MODELS[name]
    epochs = args.epochs or (1 if args.quick else spec["epochs"])
    print(f"\n== {name}: {epochs} epoch(s), batch {spec['batch']}"
          f"{', PyTorch under bfloat16 autocast' if spec['bf16'] else ''}"
          f"{', QUICK: subset, times scaled x%.2f to a 60,000-image epoch' % args.scale if args.quick else ''} ==")
    horn = None
    if not args.pytorch_only:
        try:
            horn = horn_training(name, args, epochs)
        except Skip as e:
            if args.require_all:
                sys.exit(f"compare_pytorch: {name}: {e}")
            raise
    torch_r = pytorch_training(name, args, openblas_env, epochs)
    # PyTorch's epoch includes its validation pass when Horn's does (a Keras-style fit with
    # validation_data, as Keras's mnist_cnn.py); the seed model's Horn time is training only.
    with_val = horn["includes_validation"] if horn else spec["arch"] == "cnn"
    per_epoch = [t + (v if with_val else 0) for t, v in zip(torch_r["train_seconds"], torch_r["validation_seconds"])]
    torch_s = statistics.mean(per_epoch) * args.scale
    horn_s = horn["seconds_per_epoch"] * args.scale if horn else None
    entry = {
        "horn_s_per_epoch": horn_s, "pytorch_s_per_epoch": torch_s, "ratio": horn_s / torch_s if horn else None,
        "horn_test_acc": horn["test_accuracy"] if horn else None, "pytorch_test_acc": torch_r["test_accuracy"],
        "pytorch_config": torch_r["config"],
        "epochs": epochs, "train_samples": torch_r["train_samples"], "quick": args.quick,
        "scaled_to_60000_by": args.scale if args.quick else None, "epoch_includes_validation": with_val,
        "pytorch_validation_s": statistics.mean(torch_r["validation_seconds"]) * args.scale,
        "horn_time_source": horn["time_source"] if horn else None,
        "horn_rss_mib": horn["rss_mib"] if horn else None, "pytorch_rss_mib": torch_r["rss_mib"],
    }
    print_model(name, entry)
    return entry


def print_model(name, e):
    est = " (est.)" if e["quick"] else ""
    c = e["pytorch_config"]
    print(f"  PyTorch configuration: {c['description']}; OpenBLAS kernel {c['openblas_core']}"
          f"{'; NCHW' if c['layout'] else ''}")
    if e["epoch_includes_validation"]:
        print("  epoch time includes one validation pass over the test set, on both sides")
    if e["horn_time_source"]:
        print(f"  Horn's time: {e['horn_time_source']}")
    print(f"  {'':14} {'s/epoch' + est:>15} {'test acc':>10} {'peak RSS MiB':>14}")
    rows = [("PyTorch", e["pytorch_s_per_epoch"], e["pytorch_test_acc"], e["pytorch_rss_mib"])]
    if e["horn_s_per_epoch"] is not None:
        rows.insert(0, ("Horn", e["horn_s_per_epoch"], e["horn_test_acc"], e["horn_rss_mib"]))
    for label, s, acc, rss in rows:
        print(f"  {label:14} {s:15.3f} {acc:10.4f} {rss:14.0f}")
    if e["ratio"] is not None:
        print(f"  {'Horn/PyTorch':14} {e['ratio']:15.3f} {'':10} {e['horn_rss_mib'] / e['pytorch_rss_mib']:14.3f}")


# ---------------------------------------------------------------------------------------------
# Ops (seed-model shapes), in PyTorch's best seed_mlp configuration


def op_cases(torch):
    """(Horn benchmark name prefix, PyTorch thunk). PyTorch at its best: outputs preallocated
    (`out=`) wherever it offers that, because a fresh large output costs it page faults on every
    call (on this machine 160 ms for a 16M-element add instead of 4 ms)."""
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


def ops_worker(args):
    """Child process: seconds per call of each PyTorch op case, as JSON."""
    import torch

    torch.set_num_threads(args.torch_threads)
    print(json.dumps({prefix: time_thunk(thunk) for prefix, thunk in op_cases(torch)}))


def compare_ops(args, env, config):
    bench = os.path.join(args.horn_bin, "bench/ops")
    print(f"\n== Ops ({args.threads} threads): time per call; PyTorch: {describe(config)} ==")
    if not os.path.exists(bench):
        print(f"  skipped: {bench} is missing: build it with `bazel build //bench:ops` (or pass --no-ops)")
        return
    code, out, _, _ = run_child([bench, f"--benchmark_filter=/threads:{args.threads}/", "--benchmark_format=json",
                                 "--benchmark_min_time=0.2"], dict(os.environ))
    if code != 0:
        sys.exit(f"compare_pytorch: {bench} failed:\n{out}")
    horn_ops = {b["name"]: b for b in json.loads(out[out.index("{"):])["benchmarks"]}
    torch_ops, _ = run_json_child(self_cmd("--ops-worker", f"--torch-threads={config[0]}"), config_env(env, config))
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}
    print(f"{'op':58} {'Horn us':>10} {'PyTorch us':>11} {'Horn/PyTorch':>13}")
    for prefix, t in torch_ops.items():
        name = f"{prefix}threads:{args.threads}/real_time"
        if name in horn_ops:
            h = horn_ops[name]["real_time"] * scale[horn_ops[name]["time_unit"]]
            print(f"{prefix.rstrip('/'):58} {h * 1e6:10.1f} {t * 1e6:11.1f} {h / t:13.2f}")


# ---------------------------------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated, from: {', '.join(MODELS)}")
    parser.add_argument("--epochs", type=int, default=0, help="epochs for every model (default: per model; 1 if --quick)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data", default=default_data_dir())
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--horn-bin", default=os.path.join(ROOT, "bazel-bin"),
                        help="where Horn's built binaries are (default: this checkout's bazel-bin)")
    parser.add_argument("--quick", action="store_true", help="a 6,144/1,024-image subset; s/epoch scaled (estimates)")
    parser.add_argument("--pytorch-only", action="store_true", help="measure PyTorch's side only")
    parser.add_argument("--require-all", action="store_true", help="fail instead of skipping a model")
    parser.add_argument("--no-ops", action="store_true", help="skip the op-by-op comparison")
    parser.add_argument("--tune-steps", type=int, default=None,
                        help="steps timed per PyTorch thread configuration (default 20, 8 if --quick; "
                             "0: no tuning, use torch threads N, OPENBLAS_NUM_THREADS=1, passive)")
    parser.add_argument("--tune-rounds", type=int, default=None, help="rounds of tuning (default 2, 1 if --quick)")
    parser.add_argument("--openblas-coretype", default="auto",
                        help="auto (probe and set if OpenBLAS falls back), keep (the environment's), or a name")
    parser.add_argument("--pytorch-worker", help=argparse.SUPPRESS)
    parser.add_argument("--torch-threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--probe-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--ops-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.tune_steps is None and not args.pytorch_worker:  # a worker times epochs unless told
        args.tune_steps = 8 if args.quick else 20
    if args.tune_rounds is None:
        args.tune_rounds = 1 if args.quick else 2
    return args


def main():
    args = parse_args()
    if args.pytorch_worker:
        return pytorch_worker(args)
    if args.probe_worker:
        return probe_worker()
    if args.ops_worker:
        return ops_worker(args)

    # bazel-bin follows the last build's configuration: after `bazel test --config=tsan` it
    # holds sanitizer builds, which train ~30x slower (a comparison measured 52 s per epoch).
    horn_bin = os.path.realpath(args.horn_bin)
    if not args.pytorch_only and not horn_bin.rstrip("/").endswith("-opt/bin"):
        print(f"error: {args.horn_bin} points to {horn_bin}, not an optimised (-opt) build: run "
              "`bazel build //examples:mnist_mlp //examples:keras_mnist_cnn //bench:ops` with the default "
              "configuration first, or pass --horn-bin", file=sys.stderr)
        return 2

    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f"compare_pytorch: unknown model(s) {unknown}; known: {', '.join(MODELS)}")
    if subprocess.run([sys.executable, "-c", "import torch"], capture_output=True).returncode != 0:
        sys.exit("compare_pytorch: PyTorch is missing: apt-get install python3-torch libopenblas0-pthread, "
                 "then run with /usr/bin/python3")
    openblas_env, openblas_note = choose_openblas_env(args.openblas_coretype)
    probe, _ = run_json_child(self_cmd("--probe-worker"), openblas_env)
    args.data_dir, args.scale = args.data, 1.0
    if args.quick:
        args.data_dir = make_subset(args.data, QUICK_TRAIN, QUICK_TEST)
        args.scale = FULL_TRAIN / QUICK_TRAIN
    cpu = cpu_description()
    print(f"CPU: {cpu['model_name']} ({cpu['vendor']}, family {cpu['family']} model {cpu['model']}), "
          f"{cpu['cpus']} CPUs, {' '.join(cpu['isa']) or 'no AVX-512'}"
          f"{'' if 'amx_bf16' in cpu['isa'] else ' (no AMX: bfloat16 products run on AVX512-BF16 at best)'}")
    print(f"PyTorch {probe['torch']}, OpenBLAS kernel {probe['openblas'].get('core')} ({openblas_note}); "
          f"{args.threads} threads; data {args.data_dir}{' (QUICK subset)' if args.quick else ''}")

    results, skipped = {}, {}
    for name in names:
        try:
            results[name] = compare_model(name, args, openblas_env)
        except Skip as e:
            print(f"  SKIPPED {name}: {e}")
            skipped[name] = str(e)

    if "seed_mlp" in results and not args.no_ops and not args.pytorch_only:
        c = results["seed_mlp"]["pytorch_config"]
        compare_ops(args, openblas_env, (c["torch_threads"], c["OPENBLAS_NUM_THREADS"], c["OMP_WAIT_POLICY"]))

    if args.json:
        doc = {"models": results, "skipped": skipped, "threads": args.threads, "quick": args.quick,
               "torch": probe["torch"], "cpu": cpu, "openblas": probe["openblas"], "openblas_note": openblas_note,
               "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        with open(args.json, "w") as f:
            json.dump(doc, f, indent=2)
        print(f"\nwrote {args.json}")
    if skipped:
        print(f"\nskipped: {', '.join(skipped)} (see above)")


if __name__ == "__main__":
    main()
