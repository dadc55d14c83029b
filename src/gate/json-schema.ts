/**
 * Schema validation for the files prune-gate reads back (baseline.json, report.json): each problem
 * becomes one line with the exact JSON path, what was expected and what was found.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

export function compileSchema(schema: object): ValidateFunction {
  return new Ajv({ allErrors: true, strict: true }).compile(schema);
}

/** Problems found, one per line (empty when valid), e.g. `/metrics/0/baseline must be number (got "x")`. */
export function schemaProblems(validate: ValidateFunction, data: unknown, max = 10): string[] {
  if (validate(data)) return [];
  const out: string[] = [];
  for (const e of validate.errors ?? []) {
    const line = describe(e, data);
    if (!out.includes(line)) out.push(line);
    if (out.length >= max) break;
  }
  return out;
}

function describe(e: ErrorObject, data: unknown): string {
  const where = e.instancePath === '' ? '/' : e.instancePath;
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return `${where}: unknown key "${extra}"`;
  }
  if (e.keyword === 'required') return `${where}: missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
  const found = valueAt(data, e.instancePath);
  return `${where} ${e.message ?? 'is invalid'} (got ${preview(found)})`;
}

function valueAt(data: unknown, pointer: string): unknown {
  if (pointer === '') return data;
  let cur: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function preview(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > 60 ? s.slice(0, 57) + '...' : s;
}
