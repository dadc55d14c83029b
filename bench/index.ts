/**
 * `npm run bench`: every benchmark in one table, each row measured in this run against its
 * reference. `--only name,name` runs a subset; `--write` also records the table with the machine
 * in docs/benchmarks.md.
 */
import { describeMachine, machineInfo } from '../src/evaluate/machine.js';
import { writeFileAtomic } from '../src/util/atomic-write.js';
import { runExampleBench } from './example.js';
import { runLatencyAABench } from './latency-aa.js';
import { runOnnxIoBench } from './onnx-io.js';
import { runPruneBench } from './prune.js';
import { runPruneAccuracyBench } from './prune-accuracy.js';
import { runQuantizeBench } from './quantize.js';
import { runQuantizeAccuracyBench } from './quantize-accuracy.js';
import { runScaleOutBench } from './scale-out.js';
import { runZooSpeedBench } from './zoo-speed.js';
import { runChannelBlockBench } from './channel-blocks.js';
import { runTargetsBench, runTargetsInt8Bench } from './targets.js';
import { formatRows } from './table.js';
import type { BenchRow } from './types.js';

const SUITES: Record<string, (log: (line: string) => void) => Promise<BenchRow[]>> = {
  'onnx-io': runOnnxIoBench,
  prune: runPruneBench,
  'prune-accuracy': runPruneAccuracyBench,
  quantize: runQuantizeBench,
  'quantize-accuracy': runQuantizeAccuracyBench,
  example: runExampleBench,
  latency: runLatencyAABench,
  zoo: runZooSpeedBench,
  'zoo-blocks': runChannelBlockBench,
  'scale-out': runScaleOutBench,
  targets: runTargetsBench,
  'targets-int8': runTargetsInt8Bench,
};

const args = process.argv.slice(2);
const onlyArg = args.find((a) => a.startsWith('--only='))?.slice('--only='.length) ?? (args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined);
const only = onlyArg?.split(',');
const log = (line: string) => process.stderr.write(`${line}\n`);
const rows: BenchRow[] = [];
for (const [name, suite] of Object.entries(SUITES)) {
  if (only && !only.includes(name)) continue;
  log(`== ${name}`);
  rows.push(...(await suite(log)));
}
const table = formatRows(rows);
const machine = describeMachine(machineInfo());
process.stdout.write(`${table}\n\nmachine: ${machine}\n`);
if (args.includes('--write')) {
  const date = new Date().toISOString().slice(0, 10);
  writeFileAtomic(
    'docs/benchmarks.md',
    `# Benchmarks\n\nThe last \`npm run bench -- --write\` (${date}), on ${machine}.\nEach row is measured in the same run as its reference; ratios are value / reference.\n\n${table}\n`,
  );
}
if (rows.some((r) => r.pass === false)) process.exitCode = 1;
