/** The few flags the training scripts share (no commander: these are dev scripts). */
import type { Backend } from './tf-train.js';

export interface TrainArgs {
  /** tfjs backend; each script has its own default (the one its committed model was trained on). */
  backend?: Backend;
  epochs?: number;
  /** Train on the first N training samples only (quick runs, determinism checks). */
  limit?: number;
  /** Where to write the model; default is the committed path. */
  out?: string;
  /** Train twice on a small subset and compare weight digests instead of exporting. */
  determinism: boolean;
}

export function parseArgs(argv: string[]): TrainArgs {
  const args: TrainArgs = { determinism: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--backend') {
      const backend = next();
      if (backend !== 'cpu' && backend !== 'wasm') throw new Error(`--backend must be cpu or wasm, not ${backend}`);
      args.backend = backend;
    } else if (flag === '--epochs') args.epochs = Number(next());
    else if (flag === '--limit') args.limit = Number(next());
    else if (flag === '--out') args.out = next();
    else if (flag === '--determinism') args.determinism = true;
    else throw new Error(`unknown flag ${flag} (known: --backend cpu|wasm, --epochs N, --limit N, --out FILE, --determinism)`);
  }
  return args;
}
