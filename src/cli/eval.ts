/** `prune-gate eval`: a model's metrics on the configured evaluation data. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { InputError } from '../util/errors.js';
import type { Config } from '../config/types.js';
import { evaluateModel, evaluatePair, type EvaluateOptions } from '../evaluate/evaluate.js';
import { prepare } from '../pipeline/prepare.js';
import type { EvalResult } from '../evaluate/types.js';
import { runAction } from './command-runner.js';

interface EvalOptions {
  model?: string;
  config: string;
  json?: boolean;
}

export function registerEvalCommand(program: Command): Command {
  return program
    .command('eval')
    .description("Evaluate a model on the config's evaluation data and print its metrics.")
    .option('--model <file>', "the model to evaluate (default: the config's model)")
    .requiredOption('--config <file>', 'prune-gate.yml')
    .option('--json', 'print JSON instead of a table')
    .action(runAction(async (options: EvalOptions) => {
      const out = await runEval(options);
      process.stdout.write(out);
    }));
}

export async function runEval(options: EvalOptions): Promise<string> {
  const model = options.model ? path.resolve(options.model) : undefined;
  if (model && !fs.existsSync(model)) throw new InputError(`--model ${options.model}: no such file`, options.model);
  const p = await prepare(options.config, { calibration: false });
  const { config } = p;
  const dataset = p.evalSet;
  const common: EvaluateOptions = {
    ...p.evaluate,
    noise: config.data.noiseSigma ? { sigma: config.data.noiseSigma, seed: config.seed } : undefined,
    session: { intraOpThreads: config.bench.threads },
  };
  let result: EvalResult;
  let notes: string[];
  let extra: Record<string, unknown> = {};
  if (config.task === 'fidelity') {
    // Label-free: the config's model is the reference the candidate is compared with.
    const pair = await evaluatePair(config.model, model ?? config.model, dataset, common);
    result = pair.candidate;
    notes = pair.notes;
    extra = { reference: dataset.hasExpectedOutputs ? 'the expected outputs in the data' : config.model };
  } else {
    const r = await evaluateModel(model ?? config.model, dataset, { ...common, label: model ?? config.model });
    result = r.result;
    notes = r.notes;
  }
  if (options.json) return JSON.stringify({ model: model ?? config.model, config: config.file, ...extra, gated: config.metrics[0], metricsShown: config.metrics, notes, ...result }, null, 2) + '\n';
  return formatEval(model ?? config.model, config, result, notes);
}

export function formatEval(model: string, config: Config, result: EvalResult, notes: string[]): string {
  const lines: string[] = [];
  lines.push(`model: ${model}`);
  lines.push(`task: ${result.task}, ${result.samples} samples${config.task === 'fidelity' ? ` (reference: ${config.model})` : ''}`);
  lines.push('');
  const ordered = [...config.metrics.filter((m) => m in result.metrics), ...Object.keys(result.metrics).filter((m) => !config.metrics.includes(m as never))];
  const width = Math.max(...ordered.map((m) => m.length), 6);
  lines.push(`${'metric'.padEnd(width)}  value${result.robustness ? `     with noise (sigma ${result.robustness.sigma})` : ''}`);
  for (const m of ordered) {
    const gated = m === config.metrics[0] ? '  (gated)' : '';
    const noisy = result.robustness?.metrics[m];
    lines.push(`${m.padEnd(width)}  ${fmt(result.metrics[m]).padStart(8)}${noisy !== undefined ? `  ${fmt(noisy).padStart(8)}` : ''}${gated}`);
  }
  if (result.perClass && Object.keys(result.perClass).length <= 20) {
    lines.push('');
    lines.push('per-class accuracy: ' + Object.entries(result.perClass).map(([c, v]) => `${c}: ${fmt(v)}`).join(', '));
  }
  for (const n of notes) lines.push(`note: ${n}`);
  return lines.join('\n') + '\n';
}

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  // Points and dB read best with two decimals; cosine and small errors need significant digits.
  return Math.abs(v) >= 1 || v === 0 ? v.toFixed(2) : v.toPrecision(4);
}
