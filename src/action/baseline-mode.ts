/**
 * `mode: baseline` (a push to the default branch, or workflow_dispatch): freeze baseline.json in CI,
 * with the same code as `prune-gate baseline`, and hand it over as a workflow artifact plus the
 * exact commands that commit it, in the job summary. Not a pull request opened by the Action: a
 * PR made with GITHUB_TOKEN runs no workflows (so required checks never report on it), and opening
 * one needs contents and pull-requests write plus the repository setting that lets Actions create
 * PRs. The baseline a team gates against should land by a person's commit anyway.
 *
 * On a push it freezes only when the committed baseline no longer describes the committed model
 * (another sha256, or other measurement settings); workflow_dispatch refreezes on request.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as core from '@actions/core';
import type { Baseline } from '../gate/baseline.js';
import type { BaselineStatus } from '../pipeline/baseline.js';
import { runUrl, type RunContext } from '../github/event.js';
import { escapeText as esc } from '../report/escape.js';
import { displayPath } from '../util/display-path.js';
import { DEFAULT_GATE_ID, type ActionInputs } from './inputs.js';

export type FreezeBaseline = (options: { configPath: string; log?: (message: string) => void }) => Promise<{ baseline: Baseline; file: string }>;

export interface BaselineDeps {
  freeze: FreezeBaseline;
  status: (configPath: string) => BaselineStatus;
}

export type BaselineOutcome =
  | { frozen: true; files: string[]; artifact: string; why: string; command: string }
  | { frozen: false; skipped: 'not-default-branch' | 'current'; message: string };

export async function baselineMode(inputs: ActionInputs, ctx: RunContext, deps: BaselineDeps): Promise<BaselineOutcome> {
  const onDefault = ctx.defaultBranch === undefined || ctx.ref === undefined || ctx.ref === `refs/heads/${ctx.defaultBranch}`;
  const manual = ctx.eventName === 'workflow_dispatch';
  if (ctx.eventName.startsWith('pull_request') || (!manual && !onDefault)) {
    const message = `mode: baseline freezes the default branch's model (a push to ${ctx.defaultBranch ?? 'it'}, or workflow_dispatch); this run is ${ctx.eventName || 'no event'} on ${ctx.ref ?? 'no ref'}: nothing frozen.`;
    core.notice(message);
    return { frozen: false, skipped: 'not-default-branch', message };
  }
  const status = deps.status(inputs.configPath);
  if (status.current && !manual) {
    const message = `The frozen baseline is current: ${status.why}. Nothing to refreeze (run the workflow by hand to refreeze anyway).`;
    core.info(message);
    appendSummary(`### prune-gate${shownId(inputs)}: baseline current\n\n${esc(message, 1000)}\n`);
    return { frozen: false, skipped: 'current', message };
  }
  const why = manual && status.current ? 'refrozen on request (workflow_dispatch)' : status.why;
  core.info(`Freezing the baseline: ${why}.`);
  const { baseline, file } = await deps.freeze({ configPath: inputs.configPath, log: (m) => core.info(m) });
  const stored = baseline.referenceOutputs?.stored ? [path.join(path.dirname(file), baseline.referenceOutputs.file!)] : [];
  const files = [file, ...stored].map((f) => displayPath(f));
  const artifact = inputs.gateId === DEFAULT_GATE_ID ? 'prune-gate-baseline' : `prune-gate-baseline-${inputs.gateId}`;
  const command = adoptCommand(ctx, { files, artifact, configPath: inputs.configPath, named: status.named });
  appendSummary(summary(inputs, ctx, { baseline, files, artifact, why, command, named: status.named }));
  core.setOutput('id', inputs.gateId);
  core.setOutput('baseline-files', files.join('\n'));
  core.setOutput('artifact-name', artifact);
  return { frozen: true, files, artifact, why, command };
}

/** The commands that put the artifact's files where the config reads them and commit them. */
function adoptCommand(ctx: RunContext, a: { files: string[]; artifact: string; configPath: string; named: boolean }): string {
  const dir = path.posix.dirname(a.files[0]);
  const sha = ctx.sha ? ` at ${ctx.sha.slice(0, 12)}` : '';
  const download = ctx.runId
    ? `gh run download ${ctx.runId} --repo ${ctx.owner}/${ctx.repo} --name ${a.artifact} --dir ${dir}`
    : `# download the artifact ${a.artifact} of this run into ${dir}/`;
  const lines = [download];
  if (!a.named) lines.push(`printf 'baseline: ${path.posix.relative(path.posix.dirname(displayPath(a.configPath)), a.files[0])}\\n' >> ${displayPath(a.configPath)}`);
  lines.push(`git add ${[...a.files, ...(a.named ? [] : [displayPath(a.configPath)])].join(' ')}`, `git commit -m "prune-gate: refreeze the baseline (frozen in CI${sha})"`);
  return lines.join('\n');
}

function summary(inputs: ActionInputs, ctx: RunContext, s: { baseline: Baseline; files: string[]; artifact: string; why: string; command: string; named: boolean }): string {
  const b = s.baseline;
  const metrics = Object.entries(b.metrics)
    .map(([k, v]) => `${esc(k)} ${v.toFixed(2)}`)
    .join(', ');
  const p95 = b.latency.map((l) => `batch ${l.batchSize} ${l.p95.toFixed(3)} ms`).join(', ');
  const link = runUrl(ctx);
  return [
    `### 🧊 prune-gate${shownId(inputs)}: baseline frozen`,
    '',
    `Why: ${esc(s.why, 500)}.`,
    '',
    `Frozen from the model at ${ctx.sha ? `\`${ctx.sha.slice(0, 12)}\`` : 'this commit'}${link ? ` in [run ${ctx.runId}](${link})` : ''}: ${b.samples} samples; ${metrics}${p95 ? `; P95 ${p95}` : ''}. Machine \`${esc(b.machine.fingerprint)}\`.`,
    '',
    `The files (${s.files.map((f) => `\`${esc(f)}\``).join(', ')}) are in the artifact **${esc(s.artifact)}** when the workflow uploads \`steps.<id>.outputs.baseline-files\` under \`steps.<id>.outputs.artifact-name\`. To adopt them, from a clone of the repository at this commit:`,
    '',
    '```sh',
    s.command,
    'git push   # or push a branch and open a pull request',
    '```',
    '',
    `Until it is committed, pull requests are gated against the baseline committed now; a PR that changes the model shows three columns (frozen baseline, PR model, candidate) and a callout.`,
    '',
  ].join('\n');
}

function shownId(inputs: ActionInputs): string {
  return inputs.gateId === DEFAULT_GATE_ID ? '' : ` (${esc(inputs.gateId, 64)})`;
}

function appendSummary(markdown: string): void {
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (!file) return;
  try {
    fs.appendFileSync(file, markdown);
  } catch (err) {
    core.warning(`Could not write the job summary: ${(err as Error).message}`);
  }
}
