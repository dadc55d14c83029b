/**
 * The matrix commands: `search` (the loop alone), `verify --shard i/n` (one shard of the test
 * split), `merge` (one report from the parts). `bench --candidate --out` is in bench.ts.
 */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { runMerge } from '../pipeline/merge.js';
import { runSearch } from '../pipeline/search.js';
import { runVerify } from '../pipeline/verify.js';
import type { Report } from '../report/types.js';
import { InputError } from '../util/errors.js';
import { runAction } from './command-runner.js';
import { progress } from './progress.js';

export function registerSearchCommand(program: Command): void {
  program
    .command('search')
    .description('Run the optimization loop alone on the search split; write the candidate (model.onnx) and its decisions (search.json).')
    .option('-c, --config <file>', 'configuration file', 'prune-gate.yml')
    .requiredOption('-o, --out <dir>', 'output folder for model.onnx and search.json')
    .option('-q, --quiet', 'no progress messages on stderr', false)
    .action(
      runAction(async (opts: { config: string; out: string; quiet: boolean }) => {
        const { modelPath, recordPath, record } = await runSearch({ configPath: opts.config, outDir: opts.out, log: progress(opts.quiet) });
        process.stdout.write(`wrote ${modelPath} and ${recordPath}: ${record.decisions.length} kept step${record.decisions.length === 1 ? '' : 's'} chosen on ${record.split.searchSamples} search samples\n`);
      }),
    );
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Evaluate the committed model and a candidate on one shard of the test split; write per-sample results (verify.json) for merge.')
    .option('-c, --config <file>', 'configuration file', 'prune-gate.yml')
    .requiredOption('--candidate <file>', 'the candidate model (model.onnx written by search)')
    .option('--shard <i/n>', 'which shard of the test split', '1/1')
    .requiredOption('-o, --out <dir>', 'output folder for verify.json')
    .option('-q, --quiet', 'no progress messages on stderr', false)
    .action(
      runAction(async (opts: { config: string; candidate: string; shard: string; out: string; quiet: boolean }) => {
        const { file, part } = await runVerify({ configPath: opts.config, candidate: opts.candidate, shard: opts.shard, outDir: opts.out, log: progress(opts.quiet) });
        process.stdout.write(`wrote ${file}: shard ${part.shard.index}/${part.shard.of}, test samples ${part.samples.start}..${part.samples.end} of ${part.testSamples}\n`);
      }),
    );
}

export function registerMergeCommand(program: Command): void {
  program
    .command('merge')
    .description('Combine verify shards and bench parts (files or artifact folders) into one report.json/report.md and one verdict (exit 0 pass, 1 gate failed, 2 input error).')
    .argument('<parts...>', 'every verify shard and every bench part')
    .requiredOption('-o, --out <dir>', 'output folder for report.json and report.md')
    .option('--pull-request <number>', 'the PR the parts measured, recorded in report.json for a later `mode: comment` run')
    .option('--head-sha <sha>', "with --pull-request: the PR head commit the parts measured")
    .option('-q, --quiet', 'no progress messages on stderr', false)
    .action(
      runAction((parts: string[], opts: { out: string; pullRequest?: string; headSha?: string; quiet: boolean }) => {
        const outcome = runMerge({ parts, outDir: opts.out, pullRequest: pullRequestOf(opts), log: progress(opts.quiet) });
        process.stdout.write(`${fs.readFileSync(outcome.markdownPath, 'utf8').trimEnd()}\n`);
        return outcome.exitCode;
      }),
    );
}

/** --pull-request and --head-sha (both or neither), with the workflow run from GITHUB_RUN_ID / GITHUB_RUN_ATTEMPT when set. */
function pullRequestOf(opts: { pullRequest?: string; headSha?: string }): Report['pullRequest'] {
  if (opts.pullRequest === undefined && opts.headSha === undefined) return undefined;
  const number = Number(opts.pullRequest);
  if (!Number.isInteger(number) || number < 1 || !/^[0-9a-f]{40}$/.test(opts.headSha ?? '')) {
    throw new InputError('merge: give --pull-request <number> and --head-sha <40-hex commit> together (e.g. ${{ github.event.pull_request.number }} and ${{ github.event.pull_request.head.sha }})', '--pull-request');
  }
  const runId = Number(process.env.GITHUB_RUN_ID);
  return { number, headSha: opts.headSha!, ...(Number.isInteger(runId) && runId > 0 && { runId, runAttempt: Number(process.env.GITHUB_RUN_ATTEMPT) || 1 }) };
}
