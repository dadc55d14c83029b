/**
 * The history file: parse and validate (it may come from a branch anyone with push rights
 * edits), append one entry, serialize one entry per line so every append is a one-line diff.
 * Appending never changes an earlier entry; beyond the cap the oldest are dropped.
 */
import * as fs from 'node:fs';
import { InputError } from '../util/errors.js';
import { compileSchema, schemaProblems } from '../util/json-schema.js';
import historySchema from '../../schemas/history.schema.json' with { type: 'json' };
import { HISTORY_CAP, HISTORY_SCHEMA_VERSION, type HistoryEntry, type HistoryStore } from './types.js';

let validator: ReturnType<typeof compileSchema> | undefined;

export function emptyStore(): HistoryStore {
  return { schemaVersion: HISTORY_SCHEMA_VERSION, entries: [] };
}

export function historyProblems(data: unknown): string[] {
  validator ??= compileSchema(historySchema);
  return schemaProblems(validator, data, { max: 10 });
}

/** Parses a store's text; `source` names it in errors (a file, or branch:path). */
export function parseStore(text: string, source: string): HistoryStore {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source} is not valid JSON (${(err as Error).message}); it must be a history file written by prune-gate.`, source);
  }
  const problems = historyProblems(data);
  if (problems.length > 0) {
    throw new InputError(`${source} does not match schemas/history.schema.json:\n  ${problems.join('\n  ')}\nFix or remove the entry named; prune-gate only appends to a valid history.`, source);
  }
  return data as HistoryStore;
}

/** Reads a store file; a missing file is an empty history when `missingIsEmpty` (the first append). */
export function readStoreFile(file: string, options: { missingIsEmpty?: boolean } = {}): HistoryStore {
  if (!fs.existsSync(file)) {
    if (options.missingIsEmpty) return emptyStore();
    throw new InputError(`history file ${file} does not exist; create it with \`prune-gate history add REPORT --store ${file}\`.`, file);
  }
  return parseStore(fs.readFileSync(file, 'utf8'), file);
}

export type AppendResult = { store: HistoryStore; appended: true; dropped: number } | { store: HistoryStore; appended: false; reason: string };

/**
 * The store with `entry` after the existing entries. One entry per commit: the first measurement
 * recorded stays (a re-run, or a write retried after it landed, appends nothing).
 */
export function appendEntry(store: HistoryStore, entry: HistoryEntry, cap = HISTORY_CAP): AppendResult {
  if (!Number.isSafeInteger(cap) || cap < 1) throw new InputError(`the history cap must be a whole number of entries >= 1 (got ${cap}).`, 'cap');
  const problems = historyProblems({ schemaVersion: HISTORY_SCHEMA_VERSION, entries: [entry] }).map((p) => p.replace(/^\/entries\/0/, ''));
  if (problems.length > 0) throw new InputError(`the new history entry is not valid (schemas/history.schema.json):\n  ${problems.join('\n  ')}`, 'entry');
  const same = store.entries.find((e) => e.commit === entry.commit);
  if (same) return { store, appended: false, reason: `commit ${entry.commit.slice(0, 12)} is already recorded (${same.time})` };
  const entries = [...store.entries, entry];
  const dropped = Math.max(0, entries.length - cap);
  return { store: { schemaVersion: HISTORY_SCHEMA_VERSION, entries: entries.slice(dropped) }, appended: true, dropped };
}

/** JSON with one entry per line: appends show as one added line in `git log -p`. */
export function serializeStore(store: HistoryStore): string {
  const lines = store.entries.map((e, i) => JSON.stringify(e) + (i < store.entries.length - 1 ? ',' : ''));
  return `{"schemaVersion":${store.schemaVersion},"entries":[\n${lines.join('\n')}${lines.length ? '\n' : ''}]}\n`;
}
