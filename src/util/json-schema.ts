/**
 * JSON Schema validation for every file a user writes or prune-gate reads back (config, baseline,
 * report): ajv, and one formatter that turns its errors into lines a user can act on: the exact
 * JSON pointer, what was expected, what was found, and a "did you mean" for a misspelt key.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** `refs`: other schemas (by their $id) that `schema` refers to. */
export function compileSchema(schema: object, refs: object[] = []): ValidateFunction {
  // verbose: errors carry the offending value and their schema, which the messages quote.
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
  for (const ref of refs) ajv.addSchema(ref);
  return ajv.compile(schema);
}

/** A file's own wording for some errors (e.g. a config's duration); undefined: the generic message. */
export type SpecialMessage = (e: ErrorObject, at: string) => string | undefined;

/** Problems found, one per line (empty when valid), e.g. `/recipe/0/prune/target must be < 1 (got 1.5)`. */
export function schemaProblems(validate: ValidateFunction, data: unknown, options: { max?: number; special?: SpecialMessage } = {}): string[] {
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  // A failed oneOf/anyOf reports every branch's error too; keep only the one message for that path.
  const isChoice = (e: ErrorObject) => e.keyword === 'oneOf' || e.keyword === 'anyOf';
  const choicePaths = new Set(errors.filter(isChoice).map((e) => e.instancePath));
  const out: string[] = [];
  for (const e of errors) {
    if (!isChoice(e) && choicePaths.has(e.instancePath)) continue;
    if (e.keyword === 'if') continue;
    const at = e.instancePath === '' ? '/' : e.instancePath;
    const line = options.special?.(e, at) ?? describe(e, at);
    if (!out.includes(line)) out.push(line);
    if (out.length >= (options.max ?? Infinity)) break;
  }
  return out;
}

/** A value as a message quotes it, in the words of YAML: 'text', 3, a map, a list. */
export function got(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? value.slice(0, 57) + '...' : value}'`;
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
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

function describe(e: ErrorObject, at: string): string {
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
    case 'const':
      return `${at} must be ${String(params.allowedValue)} (got ${got(e.data)})`;
    case 'uniqueItems':
      return `${at} has a duplicate entry (items ${String(params.j)} and ${String(params.i)})`;
    default:
      return `${at} ${e.message ?? 'is invalid'} (got ${got(e.data)})`;
  }
}

/** The allowed key closest to `key` by edit distance, if it is a plausible typo. */
function closest(key: string, candidates: string[]): string | undefined {
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
