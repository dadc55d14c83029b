/** `prune-gate optimize`: run the recipe's passes and print what each did. */
import type { Command } from 'commander';
import { optimizeOnly } from '../pipeline/optimize.js';
import type { PassSummary } from '../passes/types.js';
import { runAction } from './command-runner.js';

export function registerOptimizeCommand(program: Command): void {
  program
    .command('optimize')
    .description("Apply the recipe's passes as written (no validation loop) and save the model; prints what each pass changed and skipped.")
    .option('-m, --model <file>', "input model, in place of the config's `model:` (which may then be absent)")
    .option('-c, --config <file>', 'configuration file (recipe; data.calibration only when a stage needs it)', 'prune-gate.yml')
    .requiredOption('-o, --out <file>', 'output model file')
    .option('--replay <report.json>', "apply the decisions a `run` recorded (no measurement) and rebuild its candidate byte for byte")
    .option('--json', 'print the pass summaries as JSON', false)
    .action(
      runAction(async (opts: { model?: string; config: string; out: string; replay?: string; json: boolean }) => {
        const result = await optimizeOnly({ configPath: opts.config, model: opts.model, out: opts.out, replay: opts.replay, log: (m) => process.stderr.write(`prune-gate: ${m}\n`) });
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else {
          const check = result.replayMatches === undefined ? '' : result.replayMatches ? " (sha256 matches the report's candidate)" : " (sha256 DIFFERS from the report's candidate: another config, data or prune-gate version?)";
          process.stdout.write(`${formatSummaries(result.recipe, result.summaries)}wrote ${result.out}, sha256 ${result.sha256}${check}\n`);
        }
        if (result.replayMatches === false) process.exitCode = 1;
      }),
    );
}

export function formatSummaries(recipe: string[], summaries: PassSummary[]): string {
  const lines = [`recipe: ${recipe.join(' -> ') || 'none (recipe: [])'}`, ''];
  const count = (n: number) => n.toLocaleString('en-US');
  for (const s of summaries) {
    const flops = s.flopsBefore !== undefined && s.flopsAfter !== undefined ? `, FLOPs ${count(s.flopsBefore)} -> ${count(s.flopsAfter)}` : '';
    lines.push(`${s.pass}: params ${count(s.paramsBefore)} -> ${count(s.paramsAfter)}${flops}; ${s.changed.length} nodes changed, ${s.skipped.length} skipped`);
    for (const c of s.changed) lines.push(`  changed ${c.name} (${c.opType}): ${c.change}${c.error !== undefined ? ` [error ${c.error.toPrecision(3)}]` : ''}`);
    for (const k of s.skipped) lines.push(`  skipped ${k.what}: ${k.reason}`);
    for (const n of s.notes) lines.push(`  note: ${n}`);
  }
  return `${lines.join('\n')}\n`;
}
