/**
 * Validates a parsed config against schemas/config.schema.json and turns ajv's errors into
 * messages a user can act on: the exact JSON pointer, what was expected, what was found, and a
 * "did you mean" for misspelt keys.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
// Imported, not read from disk: the bundle in dist/ must carry it (the release tree has no schemas/).
import configSchema from '../../schemas/config.schema.json' with { type: 'json' };

let validator: ValidateFunction | undefined;

export function loadConfigSchema(): Record<string, unknown> {
  return configSchema as Record<string, unknown>;
}

function getValidator(): ValidateFunction {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    validator = ajv.compile(loadConfigSchema());
  }
  return validator;
}

/** Returns one message per problem, e.g. `/recipe/0/prune/target must be < 1 (got 1.5)`; empty when valid. */
export function validateConfigObject(obj: unknown): string[] {
  const validate = getValidator();
  if (validate(obj)) return [];
  return formatErrors(validate.errors ?? []);
}

function formatErrors(errors: ErrorObject[]): string[] {
  // A failed oneOf reports every branch's error too; keep only our one message for that path.
  const oneOfPaths = new Set(errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath));
  const out: string[] = [];
  for (const e of errors) {
    if (e.keyword !== 'oneOf' && oneOfPaths.has(e.instancePath)) continue;
    if (e.keyword === 'if') continue;
    const msg = formatError(e);
    if (!out.includes(msg)) out.push(msg);
  }
  return out;
}

function pointer(p: string): string {
  return p === '' ? '/' : p;
}

function got(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (ArrayBuffer.isView(value)) return 'binary data';
  if (value instanceof Set) return 'a set';
  if (typeof value === 'object') return 'a map';
  return String(value);
}

/** JSON Schema types in the words of YAML (and of `got`): a map, a list. */
const TYPE_WORDS: Record<string, string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  null: 'null',
};

function formatError(e: ErrorObject): string {
  const at = pointer(e.instancePath);
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty);
      const allowed = Object.keys(((e.parentSchema as { properties?: Record<string, unknown> })?.properties ?? {}) as object);
      const suggestion = closest(key, allowed);
      const where = e.instancePath === '' ? `/${key}` : `${e.instancePath}/${key}`;
      const hint = suggestion ? `; did you mean '${suggestion}'?` : allowed.length ? `; allowed keys here: ${allowed.join(', ')}` : '';
      return `${where}: unknown key${hint}`;
    }
    case 'required':
      return `${at}: missing required key '${String(params.missingProperty)}'`;
    case 'type':
      return `${at} must be ${TYPE_WORDS[String(params.type)] ?? `of type ${String(params.type)}`} (got ${got(e.data)})`;
    case 'enum':
      return `${at} must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')} (got ${got(e.data)})`;
    case 'minProperties':
    case 'maxProperties':
      if (/\/recipe\/\d+$/.test(e.instancePath)) return `${at}: each recipe stage has exactly one of 'prune:' or 'quantize:'`;
      return `${at} ${e.message} (got ${got(e.data)})`;
    case 'oneOf':
      if (e.instancePath.endsWith('/time-budget') || e.instancePath.endsWith('/wall-time')) {
        return `${at} must be a duration like 30s, 2m, 500ms, or a positive number of seconds (got ${got(e.data)})`;
      }
      if (e.instancePath.endsWith('/inputs')) {
        return `${at} must be a map of input name -> .npy file, or one path to an .npz, a .jsonl or a test_data_set folder (got ${got(e.data)})`;
      }
      return `${at} ${e.message} (got ${got(e.data)})`;
    case 'propertyNames':
      return `${at}: key '${String(params.propertyName)}' is not a metric name`;
    case 'uniqueItems':
      return `${at} has a duplicate entry (items ${String(params.j)} and ${String(params.i)})`;
    default:
      return `${at} ${e.message ?? 'is invalid'} (got ${got(e.data)})`;
  }
}

/** The allowed key closest to `key` by edit distance, if it is a plausible typo. */
export function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const normalized = key.toLowerCase().replace(/_/g, '-');
  for (const c of candidates) {
    const d = editDistance(normalized, c.toLowerCase().replace(/_/g, '-'));
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  // Damerau-style (adjacent transposition counts 1): "inptus" is one slip from "inputs".
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
