/** The GitHub Action entry point (bundled to dist/index.js): the real pipeline, wired to the Action. */
import { main } from './action/main.js';
import { baselineStatus, freezeBaseline } from './pipeline/baseline.js';
import { runMerge } from './pipeline/merge.js';
import { runPipeline } from './pipeline/run.js';

void main((options) => runPipeline({ ...options, log: (message) => console.log(message) }), { baseline: { freeze: freezeBaseline, status: baselineStatus }, merge: runMerge });
