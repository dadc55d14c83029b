/**
 * The job log folded into one group per phase (`::group::` ... `::endgroup::`). GitHub does not
 * nest groups, so starting one ends the one before; annotations inside a group still show.
 */
import * as core from '@actions/core';

/** How the pipeline's phases read in the log; others go by their own name. */
const TITLES: Record<string, string> = {
  prepare: 'prepare: config, model and data',
  'evaluate-original-search': 'evaluate the PR model on the search samples',
  'evaluate-original': 'evaluate the PR model',
  'profile-original': 'profile the PR model',
  optimize: 'optimize: the recipe, step by step',
  benchmark: 'benchmark: PR model and candidate (and base branch), interleaved',
  evaluate: 'evaluate the candidate',
  memory: 'memory',
  profile: 'profile the candidate',
  merge: 'merge: the verify shards and bench parts',
  comment: 'the PR comment',
};

export class LogGroups {
  private open = false;

  /** Ends the open group, if any, and starts one titled for `phase`. */
  start(phase: string): void {
    this.end();
    core.startGroup(`prune-gate: ${TITLES[phase] ?? phase}`);
    this.open = true;
  }

  end(): void {
    if (this.open) core.endGroup();
    this.open = false;
  }
}
