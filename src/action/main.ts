/**
 * The Action entry's single call. src/index.ts wires the real pipeline:
 *   import { main } from './action/main.js';
 *   import { runPipeline } from './pipeline.js';
 *   void main(runPipeline);
 */
import * as core from '@actions/core';
import { runActionWith, type ActionDeps, type RunPipeline } from './run.js';

export async function main(runPipeline: RunPipeline, extra: Omit<ActionDeps, 'runPipeline'> = {}): Promise<void> {
  try {
    const outcome = await runActionWith({ runPipeline, ...extra });
    // setFailed already set exitCode 1 for failures; input/internal errors keep their own codes.
    if (outcome.exitCode >= 2) process.exitCode = outcome.exitCode;
  } catch (err) {
    core.setFailed(`prune-gate internal error: ${(err as Error).stack ?? String(err)}`);
  }
}
