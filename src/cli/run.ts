/** `prune-gate run` and `prune-gate baseline`: the pipeline from the command line. */
import * as fs from 'node:fs';
import type { Command } from 'commander';
import { freezeBaseline } from '../pipeline/baseline.js';
import { runPipeline } from '../pipeline/run.js';
import { readStoreFile, trendFor } from '../history/index.js';
import { renderMarkdown } from '../report/markdown.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { runAction } from './command-runner.js';
import { progress } from './progress.js';

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description('Optimize the model by the recipe, measure it against the baseline, and print the verdict (exit 0 pass, 1 gate failed, 2 input error).')
    .option('-c, --config <file>', 'configuration file', 'prune-gate.yml')
    .option('-o, --out <dir>', 'output folder for model.onnx, report.json and report.md', 'prune-gate-out')
    .option('--history <file>', "history store of the default branch: report.md gets a one-line trend of its last values")
    .option('--base-model <file>', "the base branch's model (e.g. `git show main:model.onnx > base.onnx`): benchmarked interleaved with the PR model and the candidate, the PR model gated by gate.p95-regression")
    .option('--base-commit <sha>', 'the commit --base-model comes from, named in the report')
    .option('-q, --quiet', 'no progress messages on stderr', false)
    .action(
      runAction(async (opts: { config: string; out: string; history?: string; baseModel?: string; baseCommit?: string; quiet: boolean }) => {
        const store = opts.history ? readStoreFile(opts.history) : undefined;
        const baseModel = opts.baseModel ? { file: opts.baseModel, ...(opts.baseCommit && { commit: opts.baseCommit }) } : undefined;
        const outcome = await runPipeline({ configPath: opts.config, outDir: opts.out, log: progress(opts.quiet), baseModel });
        const trend = store && trendFor(outcome.report, store);
        if (trend) writeFileAtomic(outcome.markdownPath, renderMarkdown(outcome.report, { trend }));
        process.stdout.write(`${fs.readFileSync(outcome.markdownPath, 'utf8').trimEnd()}\n`);
        progress(opts.quiet)(`report: ${outcome.reportPath}${outcome.modelPath ? `, model: ${outcome.modelPath}` : ''}`);
        if (outcome.exitCode === 2 && outcome.report.error) process.stderr.write(`prune-gate: error: ${outcome.report.error.message}\n`);
        return outcome.exitCode;
      }),
    );
}

export function registerBaselineCommand(program: Command): void {
  program
    .command('baseline')
    .description("Freeze the current model's metrics, per-sample results and latency into a baseline file.")
    .option('-c, --config <file>', 'configuration file', 'prune-gate.yml')
    .option('-o, --out <file>', 'baseline file to write (default: the config\'s `baseline:`, else baseline.json)')
    .option('-q, --quiet', 'no progress messages on stderr', false)
    .action(
      runAction(async (opts: { config: string; out?: string; quiet: boolean }) => {
        const { baseline, file } = await freezeBaseline({ configPath: opts.config, outFile: opts.out, log: progress(opts.quiet) });
        const metrics = Object.entries(baseline.metrics)
          .map(([k, v]) => `${k} ${Math.round(v * 100) / 100}`)
          .join(', ');
        process.stdout.write(`wrote ${file}: ${baseline.samples} samples; ${metrics}\n`);
      }),
    );
}
