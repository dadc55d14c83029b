/**
 * Seeded mutations of a valid prune-gate.yml: structural ones (a value of the wrong type, a bad
 * number, an unknown or missing key, a wrong enum value, a path that does not exist, escapes or is
 * a folder or a device, broken cross-field rules) made on the parsed object, and textual ones (YAML
 * syntax errors, an empty file, binary garbage, random edits) made on the text. Each mutant says
 * what a correct loader must do with it: reject it, and if so at which JSON pointer.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'yaml';
import { loadConfigSchema } from '../../src/config/index.js';
import { mulberry32, randomInt } from '../helpers/seeded-random.js';

type Raw = Record<string, unknown>;

export interface Expectation {
  /** The loader must throw an InputError. */
  mustFail?: boolean;
  /** The loader must accept it (the mutation is harmless; keeps the fuzz honest). */
  mustPass?: boolean;
  /** When it fails on the config, the message names one of these JSON pointers. */
  pointers?: string[];
  /** ...and this word (a missing key's name). */
  mentions?: string;
}

export interface ConfigMutant {
  label: string;
  text: string | Uint8Array;
  expect: Expectation;
}

type Kind = 'int' | 'num' | 'num01' | 'duration' | 'enum' | 'bool' | 'file' | 'baseline';

interface Field {
  ptr: string;
  kind: Kind;
  values?: string[];
}

/** Every leaf the mutations touch; absent ones are created. */
export const FIELDS: Field[] = [
  { ptr: '/model', kind: 'file' },
  { ptr: '/baseline', kind: 'baseline' },
  { ptr: '/task', kind: 'enum', values: ['classification', 'regression', 'fidelity'] },
  { ptr: '/seed', kind: 'int' },
  { ptr: '/data/eval/inputs/input', kind: 'file' },
  { ptr: '/data/eval/labels', kind: 'file' },
  { ptr: '/data/calibration/inputs/input', kind: 'file' },
  { ptr: '/data/batch-size', kind: 'int' },
  { ptr: '/data/noise-sigma', kind: 'num' },
  { ptr: '/metrics/0', kind: 'enum', values: ['accuracy', 'f1', 'top5'] },
  { ptr: '/bench/batch-sizes/0', kind: 'int' },
  { ptr: '/bench/time-budget', kind: 'duration' },
  { ptr: '/bench/threads', kind: 'int' },
  { ptr: '/bench/min-runs', kind: 'int' },
  { ptr: '/bench/precision', kind: 'num01' },
  { ptr: '/bench/warmup', kind: 'int' },
  { ptr: '/recipe/0/prune/kind', kind: 'enum', values: ['structured', 'unstructured'] },
  { ptr: '/recipe/0/prune/target', kind: 'num01' },
  { ptr: '/recipe/0/prune/step', kind: 'num01' },
  { ptr: '/recipe/0/prune/importance', kind: 'enum', values: ['l1', 'l2', 'activation', 'reconstruction'] },
  { ptr: '/recipe/0/prune/repair', kind: 'enum', values: ['none', 'least-squares', 'bias-correction'] },
  { ptr: '/recipe/0/prune/multiple', kind: 'int' },
  { ptr: '/recipe/1/quantize/kind', kind: 'enum', values: ['int8-dynamic', 'fp16'] },
  { ptr: '/recipe/1/quantize/fallback', kind: 'enum', values: ['auto', 'none'] },
  { ptr: '/recipe/1/quantize/per-channel', kind: 'bool' },
  { ptr: '/gate/accuracy-drop', kind: 'num' },
  { ptr: '/gate/use', kind: 'enum', values: ['point', 'interval'] },
  { ptr: '/gate/p95-ratio', kind: 'num' },
  { ptr: '/gate/relative', kind: 'bool' },
  { ptr: '/gate/metrics/accuracy/max-drop', kind: 'num' },
  { ptr: '/budget/wall-time', kind: 'duration' },
  { ptr: '/budget/keep', kind: 'enum', values: ['auto', 'confident', 'point'] },
];

/** Maps the mutations add keys to or replace; the allowed keys come from the schema. */
const MAPS = ['/', '/data', '/data/eval', '/data/eval/inputs', '/data/calibration', '/bench', '/recipe/0', '/recipe/0/prune', '/recipe/1/quantize', '/gate', '/gate/metrics', '/gate/metrics/accuracy', '/budget'];
const LISTS = ['/metrics', '/bench/batch-sizes', '/recipe'];

/** Keys whose absence the loader must refuse: pointer of the parent that reports it. */
const REQUIRED: Record<string, string> = {
  '/model': '/',
  '/data/eval/inputs': '/data/eval',
  '/data/calibration/inputs': '/data/calibration',
  '/recipe/0/prune/kind': '/recipe/0/prune',
  '/recipe/1/quantize/kind': '/recipe/1/quantize',
  // Cross-field and prepare-time requirements.
  '/recipe/0/prune/target': '/recipe/0/prune',
  '/data/eval/labels': '/data/eval/labels',
  '/data/eval': '/data/eval',
  '/data': '/data/eval',
  '/data/eval/inputs/input': '/data/eval/inputs',
  '/data/calibration/inputs/input': '/data/calibration/inputs',
  '/recipe/0/prune': '/recipe/0',
  '/recipe/1/quantize': '/recipe/1',
};

/** Required by the schema (or a cross-field rule): the message says "missing required key '<key>'". */
const MISSING_KEY = new Set(['/model', '/data/eval/inputs', '/data/calibration/inputs', '/recipe/0/prune/kind', '/recipe/1/quantize/kind', '/recipe/0/prune/target']);

function allowedKeys(ptr: string): string[] {
  const schema = loadConfigSchema() as { properties: Record<string, { properties?: Raw }>; definitions: Record<string, { properties?: Raw; enum?: string[] }> };
  const props = (o: { properties?: Raw } | undefined) => Object.keys(o?.properties ?? {});
  const d = schema.definitions;
  const table: Record<string, string[]> = {
    '/': props(schema),
    '/data': props(schema.properties.data),
    '/data/eval': props(d.dataSource),
    '/data/calibration': props(d.dataSource),
    '/data/eval/inputs': ['input'],
    '/bench': props(schema.properties.bench),
    '/recipe/0': props(d.stage),
    '/recipe/0/prune': props(d.prune),
    '/recipe/1/quantize': props(d.quantize),
    '/gate': props(schema.properties.gate),
    '/gate/metrics': d.metricName.enum ?? [],
    '/gate/metrics/accuracy': props(d.metricRule),
    '/budget': props(schema.properties.budget),
  };
  return table[ptr] ?? [];
}

// ---- object helpers -------------------------------------------------------------------------

const tokens = (ptr: string) => (ptr === '/' ? [] : ptr.slice(1).split('/'));

function getAt(obj: unknown, ptr: string): unknown {
  let node = obj;
  for (const t of tokens(ptr)) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Raw)[t];
  }
  return node;
}

function setAt(obj: Raw, ptr: string, value: unknown): void {
  const ts = tokens(ptr);
  let node: Raw = obj;
  for (const t of ts.slice(0, -1)) {
    if (node[t] === null || typeof node[t] !== 'object') node[t] = {};
    node = node[t] as Raw;
  }
  node[ts[ts.length - 1]] = value;
}

function deleteAt(obj: Raw, ptr: string): void {
  const ts = tokens(ptr);
  const parent = getAt(obj, ts.length > 1 ? `/${ts.slice(0, -1).join('/')}` : '/') as Raw | undefined;
  if (!parent) return;
  if (Array.isArray(parent)) parent.splice(Number(ts[ts.length - 1]), 1);
  else delete parent[ts[ts.length - 1]];
}

/** The pointer and its ancestors, root excluded (a oneOf reports at the parent). */
function selfAndAncestors(ptr: string): string[] {
  const ts = tokens(ptr);
  return ts.map((_, i) => `/${ts.slice(0, ts.length - i).join('/')}`);
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[randomInt(rand, xs.length)];

// ---- the value pools --------------------------------------------------------------------------

const WRONG_TYPE: Record<Kind, unknown[]> = {
  int: ['ten', '5', true, [1], { n: 1 }, null, 1.5, 0.0001],
  num: ['0.5', 'high', false, [0.1], {}, null],
  num01: ['0.5', 'half', true, [0.5], { v: 0.5 }, null],
  duration: [true, [1], { s: 1 }, null, 'soon', '5', '-5s', '1e3s', '5 sec', '', ' 5s'],
  enum: [5, true, ['x'], {}, null],
  bool: ['yes', 'true', 1, 0, null, [true]],
  file: [5, true, ['model.onnx'], { p: 1 }, null, ''],
  baseline: [5, false, ['b.json'], {}, null, ''],
};

const BAD_NUMBER: Record<'int' | 'num' | 'num01' | 'duration', unknown[]> = {
  int: [-1, -7, NaN, Infinity, -Infinity, -1e308],
  num: [-0.5, -1e-9, NaN, Infinity, -Infinity, -1e308],
  num01: [-0.5, 1, 1.5, 1e308, NaN, Infinity, -Infinity],
  // 0s, 0ms, huge and non-finite durations: refused since the fuzz found them accepted (0s) or crashing the benchmark (1e308).
  duration: [-1, 0, NaN, Infinity, -Infinity, '0s', '0ms', '0.000h', 1e308, 1e300, '9999999999h', 31 * 86_400],
};

const EDGE_NUMBER: unknown[] = [0, 1, 2, 2 ** 31, 2 ** 53 + 2, 1e21, 5e-324, 0.999999];

/** Path values: the loader must say where and what, never read a device, never crash. */
function pathValues(dir: string, other: string): string[] {
  return [
    'nope.onnx',
    'missing/dir/x.npy',
    '/nonexistent/abs.npy',
    '../../../../../../../../../etc/hostname',
    '../../../../../../../../../etc',
    path.relative(dir, other),
    '..',
    '.',
    'data',
    '/',
    '/dev/null',
    'prune-gate.yml',
    'model.onnx',
    'data/eval_x.npy',
    'data/eval_y.npy',
    'data/calib_x.npy',
    'data/../data/eval_x.npy',
    'x'.repeat(300),
    'a\u0000b.npy',
    'data/new\nline.npy',
    '~/model.onnx',
    'file:///etc/passwd',
    'C:\\model.onnx',
    'dätä/ünïcode.npy',
  ];
}

// ---- the operators ------------------------------------------------------------------------------

interface Ctx {
  base: Raw;
  dir: string;
  /** A file outside the project folder (a path that escapes). */
  outside: string;
  rand: () => number;
}

type Op = (c: Ctx) => { label: string; obj?: Raw; text?: string | Uint8Array; expect: Expectation };

const show = (v: unknown) => (typeof v === 'number' ? String(v) : JSON.stringify(v)?.slice(0, 40));

const wrongType: Op = ({ base, rand }) => {
  const f = pick(rand, FIELDS);
  const v = pick(rand, WRONG_TYPE[f.kind]);
  const obj = structuredClone(base);
  setAt(obj, f.ptr, v);
  return { label: `wrong type ${f.ptr} = ${show(v)}`, obj, expect: { mustFail: true, pointers: selfAndAncestors(f.ptr) } };
};

const badNumber: Op = ({ base, rand }) => {
  const f = pick(
    rand,
    FIELDS.filter((x) => x.kind in BAD_NUMBER),
  );
  const v = pick(rand, BAD_NUMBER[f.kind as keyof typeof BAD_NUMBER]);
  const obj = structuredClone(base);
  setAt(obj, f.ptr, v);
  return { label: `bad number ${f.ptr} = ${show(v)}`, obj, expect: { mustFail: true, pointers: selfAndAncestors(f.ptr) } };
};

const edgeNumber: Op = ({ base, rand }) => {
  const f = pick(
    rand,
    FIELDS.filter((x) => x.kind === 'int' || x.kind === 'num' || x.kind === 'num01' || x.kind === 'duration'),
  );
  const v = pick(rand, EDGE_NUMBER);
  const obj = structuredClone(base);
  setAt(obj, f.ptr, v);
  return { label: `edge number ${f.ptr} = ${show(v)}`, obj, expect: {} };
};

const wrongEnum: Op = ({ base, rand }) => {
  const f = pick(
    rand,
    FIELDS.filter((x) => x.kind === 'enum'),
  );
  const good = pick(rand, f.values ?? ['x']);
  const v = pick(rand, ['bogus', good.toUpperCase(), `${good} `, '', `${good}s`, good.replace(/-/g, '_'), 'n:m:k']);
  const obj = structuredClone(base);
  setAt(obj, f.ptr, v);
  const valid = (f.values ?? []).includes(v) || (f.ptr === '/metrics/0' && ['top1', 'top3', 'top10'].includes(v));
  return { label: `wrong enum ${f.ptr} = ${show(v)}`, obj, expect: valid ? {} : { mustFail: true, pointers: selfAndAncestors(f.ptr) } };
};

const deleteKey: Op = ({ base, rand }) => {
  const candidates = [...FIELDS.map((f) => f.ptr), ...MAPS.filter((m) => m !== '/'), ...LISTS, '/data/eval/inputs', '/data/calibration/inputs', '/recipe/0/prune/target'].filter((p) => getAt(base, p) !== undefined);
  const ptr = pick(rand, candidates);
  const obj = structuredClone(base);
  deleteAt(obj, ptr);
  const parent = REQUIRED[ptr];
  const mentions = MISSING_KEY.has(ptr) ? tokens(ptr).at(-1) : undefined;
  return { label: `delete ${ptr}`, obj, expect: parent !== undefined ? { mustFail: true, pointers: [parent], mentions } : {} };
};

function typo(key: string, rand: () => number): string {
  if (key.length < 2) return `${key}${key}`;
  const i = randomInt(rand, key.length - 1);
  switch (randomInt(rand, 5)) {
    case 0:
      return key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2);
    case 1:
      return key.replace(/-/g, '_') === key ? `${key}_x` : key.replace(/-/g, '_');
    case 2:
      return key[0].toUpperCase() + key.slice(1);
    case 3:
      return `${key}s`;
    default:
      return key.slice(0, i) + key.slice(i + 1);
  }
}

const ODD_KEYS = ['bogus', 'x'.repeat(200), 'key\nwith newline', '😀', '__proto__', 'constructor', 'toString', '$ref', '', '0', 'model ', ' data'];

const unknownKey: Op = ({ base, rand }) => {
  const map = pick(
    rand,
    MAPS.filter((m) => getAt(base, m) !== undefined),
  );
  const allowed = allowedKeys(map);
  const existing = Object.keys((getAt(base, map) as Raw) ?? {});
  let key = randomInt(rand, 3) === 0 ? pick(rand, ODD_KEYS) : typo(pick(rand, existing.length ? existing : allowed), rand);
  if (allowed.includes(key) || existing.includes(key) || key.includes('/') || key.includes('~')) key = `${key}-zz`;
  const value = pick(rand, [1, 'x', true, null, { a: 1 }, [1], 'data/eval_x.npy']);
  const obj = structuredClone(base);
  const target = (map === '/' ? obj : getAt(obj, map)) as Raw;
  // A real own property even for '__proto__', as YAML creates it.
  Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
  const at = map === '/' ? `/${key}` : `${map}/${key}`;
  return { label: `unknown key ${at.replace(/\n/g, '\\n').slice(0, 60)}`, obj, expect: { mustFail: true, pointers: [printableKey(at), map] } };
};

/** The loader prints control characters in keys as \uXXXX escapes. */
function printableKey(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const wrongContainer: Op = ({ base, rand }) => {
  const ptr = pick(rand, [...MAPS, ...LISTS]);
  const isList = LISTS.includes(ptr);
  const v = isList
    ? pick(rand, [{}, 'x', 5, null, ...(ptr === '/recipe' ? [[{}], [{ prune: { kind: 'structured', target: 0.2 }, quantize: { kind: 'fp16' } }]] : [[], ptr === '/metrics' ? ['accuracy', 'accuracy'] : [1, 1]])])
    : pick(rand, [[], 'text', 5, null, true, [{ a: 1 }]]);
  if (ptr === '/') return { label: `root = ${show(v)}`, text: stringify(v), expect: { mustFail: true } };
  const obj = structuredClone(base);
  setAt(obj, ptr, v);
  // `recipe: null` etc.: refused; the message points at the container (or, for a list's items, inside it).
  const inside = Array.isArray(v) && v.length > 0 ? [`${ptr}/0`, `${ptr}/1`] : [];
  const noChange = ptr === '/recipe' && Array.isArray(v) && v.length === 0;
  return { label: `container ${ptr} = ${show(v)}`, obj, expect: noChange ? {} : { mustFail: true, pointers: [...selfAndAncestors(ptr), ...inside] } };
};

const pathValue: Op = ({ base, dir, outside, rand }) => {
  const f = pick(
    rand,
    FIELDS.filter((x) => x.kind === 'file' || x.kind === 'baseline'),
  );
  const v = pick(rand, pathValues(dir, outside));
  const obj = structuredClone(base);
  setAt(obj, f.ptr, v);
  let abs = path.resolve(dir, v);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(abs);
  } catch {
    stat = undefined;
  }
  if (v.includes('\u0000')) abs = '';
  // Missing, a folder or a device where a file belongs: the config is at fault, at this pointer.
  const configFault = f.kind === 'file' && (!stat || !stat.isFile());
  const expect: Expectation = configFault ? { mustFail: true, pointers: [f.ptr] } : f.kind === 'baseline' ? { mustFail: true } : {};
  return { label: `path ${f.ptr} = ${show(v)}`, obj, expect };
};

/** data.eval.inputs as one path (an .npz, a .jsonl, a folder) instead of a map. */
const inputsAsPath: Op = ({ base, dir, outside, rand }) => {
  const v = pick(rand, [...pathValues(dir, outside), 'data/none.npz', 'data/x.jsonl', 'model.onnx']);
  const obj = structuredClone(base);
  setAt(obj, '/data/eval/inputs', v);
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(path.resolve(dir, v));
  } catch {
    stat = undefined;
  }
  const expect: Expectation = !stat || (!stat.isFile() && !stat.isDirectory()) ? { mustFail: true, pointers: ['/data/eval/inputs'] } : {};
  return { label: `inputs path ${show(v)}`, obj, expect };
};

/** Random edits of the YAML text: a deleted span, inserted punctuation, a swapped or repeated line, a cut. */
const textNoise: Op = ({ base, rand }) => {
  let text = stringify(base);
  const edits: string[] = [];
  const n = 1 + randomInt(rand, 3);
  for (let k = 0; k < n; k++) {
    const at = randomInt(rand, text.length);
    switch (randomInt(rand, 6)) {
      case 0: {
        const len = 1 + randomInt(rand, 8);
        text = text.slice(0, at) + text.slice(at + len);
        edits.push(`del ${at}+${len}`);
        break;
      }
      case 1: {
        const c = pick(rand, [':', '-', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', ' ', '\t', '\n', ',', '?']);
        text = text.slice(0, at) + c + text.slice(at);
        edits.push(`ins ${JSON.stringify(c)}@${at}`);
        break;
      }
      case 2: {
        const lines = text.split('\n');
        const i = randomInt(rand, lines.length);
        const j = randomInt(rand, lines.length);
        [lines[i], lines[j]] = [lines[j], lines[i]];
        text = lines.join('\n');
        edits.push(`swap ${i}/${j}`);
        break;
      }
      case 3: {
        const lines = text.split('\n');
        const i = randomInt(rand, lines.length);
        lines.splice(i, 0, lines[i]);
        text = lines.join('\n');
        edits.push(`dup ${i}`);
        break;
      }
      case 4:
        text = text.slice(0, at);
        edits.push(`cut ${at}`);
        break;
      default: {
        const lines = text.split('\n');
        const i = randomInt(rand, lines.length);
        lines[i] = (randomInt(rand, 2) ? ' ' : '') + lines[i].replace(/^ {2}/, randomInt(rand, 2) ? '\t' : ' ');
        text = lines.join('\n');
        edits.push(`indent ${i}`);
      }
    }
  }
  return { label: `text ${edits.join(', ')}`, text, expect: {} };
};

/** Binary garbage, other encodings, stray bytes. */
const binary: Op = ({ base, rand }) => {
  const text = stringify(base);
  const kind = randomInt(rand, 5);
  if (kind === 0) {
    const bytes = new Uint8Array(64 + randomInt(rand, 2048));
    for (let i = 0; i < bytes.length; i++) bytes[i] = randomInt(rand, 256);
    return { label: `random bytes (${bytes.length})`, text: bytes, expect: {} };
  }
  if (kind === 1) return { label: 'UTF-16LE with BOM', text: Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), expect: {} };
  if (kind === 2) {
    const bytes = Buffer.from(text);
    const at = randomInt(rand, bytes.length);
    return { label: `NUL at ${at}`, text: Buffer.concat([bytes.subarray(0, at), Buffer.from([0]), bytes.subarray(at)]), expect: {} };
  }
  if (kind === 3) {
    const bytes = Buffer.from(text);
    const n = 1 + randomInt(rand, 6);
    for (let k = 0; k < n; k++) bytes[randomInt(rand, bytes.length)] = 0x80 + randomInt(rand, 128);
    return { label: `${n} high bytes`, text: bytes, expect: {} };
  }
  const bytes = Buffer.from(text);
  const at = randomInt(rand, bytes.length);
  const junk = Buffer.from(Array.from({ length: 1 + randomInt(rand, 32) }, () => randomInt(rand, 32)));
  return { label: `control bytes at ${at}`, text: Buffer.concat([bytes.subarray(0, at), junk, bytes.subarray(at)]), expect: {} };
};

// ---- fixed cases ----------------------------------------------------------------------------

function fixedCases(base: Raw): Array<{ label: string; obj?: Raw; text?: string | Uint8Array; expect: Expectation }> {
  const with_ = (label: string, edit: (o: Raw) => void, expect: Expectation) => {
    const obj = structuredClone(base);
    edit(obj);
    return { label, obj, expect };
  };
  const text = stringify(base);
  const fail = (ptr: string): Expectation => ({ mustFail: true, pointers: [ptr] });
  const stage0 = (prune: Raw) => (o: Raw) => setAt(o, '/recipe/0', { prune });
  const stage1 = (quantize: Raw) => (o: Raw) => setAt(o, '/recipe/1', { quantize });
  const nested = (open: string, close: string, n: number) => `model: ${open.repeat(n)}1${close.repeat(n)}\n`;
  const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...'bcdefg'.split('').map((c, i) => `${c}: &${c} [${Array(10).fill(`*${'abcdefg'[i]}`).join(', ')}]`), 'model: model.onnx'].join('\n');
  return [
    { label: 'unchanged', obj: structuredClone(base), expect: { mustPass: true } },
    // Cross-field rules.
    with_('n:m with n >= m', stage0({ kind: 'n:m', target: 0.5, n: 4, m: 4 }), fail('/recipe/0/prune/n')),
    with_('n with structured', stage0({ kind: 'structured', target: 0.2, n: 2 }), fail('/recipe/0/prune')),
    with_('energy with structured', stage0({ kind: 'structured', target: 0.2, energy: 0.9 }), fail('/recipe/0/prune')),
    with_('step > target', stage0({ kind: 'structured', target: 0.2, step: 0.5 }), fail('/recipe/0/prune/step')),
    with_('low-rank without target or energy', stage0({ kind: 'low-rank' }), fail('/recipe/0/prune')),
    with_('percentile without calibration: percentile', stage1({ kind: 'int8-static', percentile: 99 }), fail('/recipe/1/quantize')),
    with_('block-size with int8-dynamic', stage1({ kind: 'int8-dynamic', 'block-size': 32 }), fail('/recipe/1/quantize')),
    with_('calibration with int8-dynamic', stage1({ kind: 'int8-dynamic', calibration: 'minmax' }), fail('/recipe/1/quantize')),
    with_('block-size 48', stage1({ kind: 'int4-weight-only', 'block-size': 48 }), fail('/recipe/1/quantize/block-size')),
    with_('accuracy-level 7', stage1({ kind: 'int4-weight-only', 'accuracy-level': 7 }), fail('/recipe/1/quantize/accuracy-level')),
    with_('two operations in one stage', (o) => setAt(o, '/recipe/0', { prune: { kind: 'structured', target: 0.2 }, quantize: { kind: 'fp16' } }), fail('/recipe/0')),
    with_('metric of another task', (o) => setAt(o, '/metrics', ['accuracy', 'mae']), fail('/metrics/1')),
    with_('regression task with accuracy', (o) => setAt(o, '/task', 'regression'), fail('/metrics/0')),
    with_('fidelity task with f1', (o) => setAt(o, '/task', 'fidelity'), fail('/metrics/0')),
    with_('duplicate metric', (o) => setAt(o, '/metrics', ['accuracy', 'accuracy']), fail('/metrics')),
    with_('gate rule for an unknown metric', (o) => setAt(o, '/gate/metrics', { bogus: { 'max-drop': 1 } }), fail('/gate/metrics')),
    with_('negative gate rule', (o) => setAt(o, '/gate/metrics', { accuracy: { 'max-drop': -1 } }), fail('/gate/metrics/accuracy/max-drop')),
    // Regressions: durations the schema's string pattern let through.
    with_('wall-time 0s', (o) => setAt(o, '/budget/wall-time', '0s'), fail('/budget/wall-time')),
    with_('time-budget 0ms', (o) => setAt(o, '/bench/time-budget', '0ms'), fail('/bench/time-budget')),
    with_('time-budget 1e308 s (Infinity ms: the benchmark threw a RangeError)', (o) => setAt(o, '/bench/time-budget', 1e308), fail('/bench/time-budget')),
    with_('wall-time 999999h', (o) => setAt(o, '/budget/wall-time', '999999h'), fail('/budget/wall-time')),
    // Regressions: the model or labels path is a folder or a device.
    with_('model is a folder', (o) => setAt(o, '/model', 'data'), fail('/model')),
    with_('model is /dev/null', (o) => setAt(o, '/model', '/dev/null'), fail('/model')),
    with_('labels is /dev/null', (o) => setAt(o, '/data/eval/labels', '/dev/null'), fail('/data/eval/labels')),
    with_('inputs map entry is a folder', (o) => setAt(o, '/data/eval/inputs/input', 'data'), fail('/data/eval/inputs/input')),
    // Regressions: prepare-time config problems name the pointer.
    with_('no data section', (o) => delete o.data, fail('/data/eval')),
    with_('misnamed model input', (o) => setAt(o, '/data/eval/inputs', { inputs: 'data/eval_x.npy' }), fail('/data/eval/inputs/inputs')),
    with_('misnamed calibration input', (o) => setAt(o, '/data/calibration/inputs', { image: 'data/calib_x.npy' }), fail('/data/calibration/inputs/image')),
    with_('input name with a newline', (o) => setAt(o, '/data/eval/inputs', { 'in\nput': 'data/eval_x.npy' }), fail('/data/eval/inputs/in\\u000aput')),
    with_('path with a newline', (o) => setAt(o, '/model', 'mo\ndel.onnx'), fail('/model')),
    // Regressions: "must be a map" / "a list", not "a object" / "a array".
    with_('data is a list', (o) => setAt(o, '/data', [1]), fail('/data')),
    with_('recipe is a map', (o) => setAt(o, '/recipe', { prune: {} }), fail('/recipe')),
    // The root.
    { label: 'empty file', text: '', expect: { mustFail: true } },
    { label: 'whitespace only', text: '\n\n   \n', expect: { mustFail: true } },
    { label: 'comment only', text: '# prune-gate\n', expect: { mustFail: true } },
    { label: 'document marker only', text: '---\n', expect: { mustFail: true } },
    { label: 'null', text: 'null\n', expect: { mustFail: true } },
    { label: 'tilde', text: '~\n', expect: { mustFail: true } },
    { label: 'a list', text: '- model: model.onnx\n', expect: { mustFail: true } },
    { label: 'a number', text: '42\n', expect: { mustFail: true } },
    { label: 'a string', text: '"model.onnx"\n', expect: { mustFail: true } },
    { label: 'missing model', text: 'task: classification\n', expect: { mustFail: true, pointers: ['/'], mentions: 'model' } },
    // YAML syntax.
    { label: 'unclosed flow sequence', text: text.replace('- 1\n', '- [1\n'), expect: { mustFail: true } },
    { label: 'unterminated quote', text: `model: "model.onnx\n${text.split('\n').slice(1).join('\n')}`, expect: { mustFail: true } },
    { label: 'tab indentation', text: text.replace(/\n {2}eval:/, '\n\teval:'), expect: { mustFail: true } },
    { label: 'duplicate key', text: `${text}model: model.onnx\n`, expect: { mustFail: true } },
    { label: 'bad indentation', text: 'model: model.onnx\n  task: classification\n', expect: { mustFail: true } },
    { label: 'reserved indicator', text: '@model: model.onnx\n', expect: { mustFail: true } },
    { label: 'stray bracket', text: 'model: ]\n', expect: { mustFail: true } },
    { label: 'nested compact mapping', text: 'model: a: b\n', expect: { mustFail: true } },
    { label: 'two documents', text: 'model: a.onnx\n---\nmodel: b.onnx\n', expect: { mustFail: true } },
    { label: 'sequence then mapping', text: '- a\nmodel: b\n', expect: { mustFail: true } },
    // Regressions: yaml throws a ReferenceError from toJS for these.
    { label: 'unresolved alias', text: 'model: *nope\n', expect: { mustFail: true } },
    { label: 'alias bomb', text: bomb, expect: { mustFail: true } },
    // Regression: "Maximum call stack size exceeded" became "nested too deeply".
    { label: 'deeply nested lists', text: nested('[', ']', 20_000), expect: { mustFail: true } },
    { label: 'deeply nested maps', text: nested('{a: ', '}', 5_000), expect: { mustFail: true } },
    // Regression: no stderr warning for a list used as a key.
    { label: 'a list as a key', text: `? [a, b]\n: c\n${text}`, expect: { mustFail: true, pointers: ['/[ a, b ]'] } },
    { label: 'tagged binary model', text: text.replace('model: model.onnx', 'model: !!binary aGVsbG8='), expect: { mustFail: true, pointers: ['/model'] } },
    { label: 'a set of metrics', text: text.replace(/metrics:\n( {2}- .*\n)+/, 'metrics: !!set { accuracy }\n'), expect: { mustFail: true, pointers: ['/metrics'] } },
    { label: 'a date as seed', text: text.replace(/^seed: .*$/m, 'seed: 2001-12-14'), expect: { mustFail: true, pointers: ['/seed'] } },
    { label: 'one long scalar', text: 'a'.repeat(200_000), expect: { mustFail: true } },
  ];
}

/**
 * `count` mutants (fixed cases first, then seeded random ones, no two with the same text).
 * `dir` is the project folder (paths resolve there); `outside` a real file outside it.
 */
export function configMutants(base: Raw, dir: string, outside: string, count: number, seed: number): ConfigMutant[] {
  const rand = mulberry32(seed);
  const ctx: Ctx = { base, dir, outside, rand };
  const ops: Array<[Op, number]> = [
    [wrongType, 5],
    [badNumber, 4],
    [edgeNumber, 2],
    [wrongEnum, 3],
    [deleteKey, 3],
    [unknownKey, 4],
    [wrongContainer, 2],
    [pathValue, 4],
    [inputsAsPath, 1],
    [textNoise, 4],
    [binary, 1],
  ];
  const weighted = ops.flatMap(([op, w]) => Array<Op>(w).fill(op));
  const out: ConfigMutant[] = [];
  const seen = new Set<string>();
  const add = (m: { label: string; obj?: Raw; text?: string | Uint8Array; expect: Expectation }) => {
    const text = m.text ?? stringify(m.obj);
    const key = typeof text === 'string' ? text : Buffer.from(text).toString('base64');
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ label: m.label, text, expect: m.expect });
  };
  fixedCases(base).forEach(add);
  for (let tries = 0; out.length < count && tries < count * 20; tries++) add(pick(rand, weighted)(ctx));
  return out;
}
