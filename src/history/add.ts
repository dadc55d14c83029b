/** `prune-gate history add`: one report appended to a store file on disk. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256File } from '../gate/baseline.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import type { Report } from '../report/types.js';
import { entryFromReport, type EntryContext } from './entry.js';
import { appendEntry, readStoreFile, serializeStore, type AppendResult } from './store.js';
import type { HistoryEntry } from './types.js';

/** The entry for a report, with the original model's sha256 when its file is still where the report says. */
export function entryWithModelHash(report: Report, context: EntryContext, baseDir = process.cwd()): HistoryEntry {
  const original = report.models.original ? path.resolve(baseDir, report.models.original) : undefined;
  const originalSha256 = context.originalSha256 ?? (original && fs.existsSync(original) && fs.statSync(original).isFile() ? sha256File(original) : undefined);
  return entryFromReport(report, { ...context, ...(originalSha256 ? { originalSha256 } : {}) });
}

/** Appends to the store file (created when missing), written atomically. */
export function appendToStoreFile(storeFile: string, entry: HistoryEntry, cap?: number): AppendResult {
  const result = appendEntry(readStoreFile(storeFile, { missingIsEmpty: true }), entry, cap);
  if (result.appended) writeFileAtomic(storeFile, serializeStore(result.store));
  return result;
}
