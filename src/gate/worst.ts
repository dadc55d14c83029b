/**
 * One verdict from several gated parts: the latency of each runner kind (`merge`) or of each
 * runtime target (`run`), each gated on its own and never pooled. The verdict and reason are the
 * worst part's; every part's latency rows are kept, tagged with where they were measured.
 */
import type { GateDecision } from './verdict.js';
import type { LatencyRow, Verdict } from './types.js';

export interface GatedPart {
  /** How the reason names the part ("On wasm: ..."). */
  label?: string;
  /** Set on each of the part's latency rows: { runner } or { target }. */
  tag?: Pick<LatencyRow, 'runner' | 'target'>;
  decision: GateDecision;
}

const RANK = { pass: 0, warn: 1, fail: 2 } as const;

export function worstOf(parts: GatedPart[]): GateDecision {
  const worst = parts.reduce((a, b) => (RANK[b.decision.verdict] > RANK[a.decision.verdict] ? b : a));
  return {
    ...worst.decision,
    reason: parts.length > 1 && worst.label ? `On ${worst.label}: ${worst.decision.reason}` : worst.decision.reason,
    latency: parts.flatMap((p) => p.decision.latency.map((row) => (p.tag ? { ...p.tag, ...row } : row))),
  };
}

/** A further check (a target's outputs) folded into a decision: it sets verdict and reason when it is worse. */
export function withCheck(decision: GateDecision, check: { label: string; verdict: Exclude<Verdict, 'error'>; reason: string }): GateDecision {
  if (RANK[check.verdict] <= RANK[decision.verdict]) return decision;
  return { ...decision, verdict: check.verdict, reason: `${check.label}: ${check.reason}` };
}
