/**
 * The run's progress lines for the job log: each message with the time since the run started and,
 * inside a phase with a known bound (the search's wall-time budget), what is left of it. The
 * benchmark says its own estimate (rounds done of rounds, src/evaluate/latency.ts).
 */
export interface Progress {
  log(message: string): void;
  /** Enters a phase; with `budgetMs`, messages add how much of that budget is left. */
  phase(name: string, budgetMs?: number): void;
}

export function progressLog(sink: (message: string) => void, now: () => number = () => performance.now()): Progress {
  const started = now();
  let phase: { start: number; budgetMs?: number } | undefined;
  return {
    phase(_name, budgetMs) {
      phase = { start: now(), budgetMs };
    },
    log(message) {
      const t = now();
      const left = phase?.budgetMs !== undefined ? ` (about ${seconds(Math.max(0, phase.budgetMs - (t - phase.start)))} left of the wall-time budget)` : '';
      sink(`[${seconds(t - started)}] ${message}${left}`);
    },
  };
}

/** 4.2 s, 95 s, 12 min 5 s. */
export function seconds(ms: number): string {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 600) return `${Math.round(s)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
