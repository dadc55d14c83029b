/**
 * Reading report.json back. In `mode: comment` the file comes from an artifact uploaded by a
 * workflow that ran untrusted PR code, so it is validated against the schema before anything of it
 * reaches the GitHub API; whatever passes is still escaped when rendered.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { InputError } from '../util/errors.js';
import { compileSchema, schemaProblems } from '../util/json-schema.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import reportSchema from '../../schemas/report.schema.json' with { type: 'json' };
import type { Report } from './types.js';

/** Larger than any report prune-gate writes; bigger files are rejected before parsing. */
const MAX_REPORT_BYTES = 16 * 1024 * 1024;

let validator: ReturnType<typeof compileSchema> | undefined;

export function reportProblems(data: unknown): string[] {
  validator ??= compileSchema(reportSchema);
  return schemaProblems(validator, data, { max: 10 });
}

export function validateReport(data: unknown, source = 'report'): Report {
  const problems = reportProblems(data);
  if (problems.length > 0) {
    throw new InputError(`${source} does not match schemas/report.schema.json:\n  ${problems.join('\n  ')}\nIt must be the report.json written by prune-gate (mode: run or measure) of the same version.`, source);
  }
  return data as Report;
}

/** Reads a report file, or `report.json` inside a directory (a downloaded artifact). */
export function readReport(fileOrDir: string): Report {
  let file = fileOrDir;
  try {
    if (fs.statSync(file).isDirectory()) file = path.join(file, 'report.json');
    const size = fs.statSync(file).size;
    if (size > MAX_REPORT_BYTES) throw new InputError(`${file} is ${size} bytes, too large for a prune-gate report.`, file);
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot read the report ${file}: ${(err as Error).message}. Download the measure workflow's artifact first (actions/download-artifact) and point report-path at it.`, file);
  }
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new InputError(`${file} is not valid JSON (${(err as Error).message}).`, file);
  }
  return validateReport(data, file);
}

export interface WrittenReport {
  reportPath: string;
  markdownPath: string;
}

/**
 * Writes report.json and report.md into outDir, atomically. The JSON is checked against the schema
 * first, so `mode: comment` never rejects a report prune-gate wrote itself (NaN, an over-long name
 * or a missing field is a bug to fix here, not at comment time).
 */
export function writeReportFiles(outDir: string, report: Report, markdown: string): WrittenReport {
  const reportPath = path.join(outDir, 'report.json');
  const markdownPath = path.join(outDir, 'report.md');
  const json = JSON.stringify(report, null, 2) + '\n';
  const problems = reportProblems(JSON.parse(json));
  if (problems.length > 0) throw new Error(`internal: the report does not match schemas/report.schema.json:\n  ${problems.join('\n  ')}`);
  writeFileAtomic(reportPath, json);
  writeFileAtomic(markdownPath, markdown);
  return { reportPath, markdownPath };
}
