/**
 * The comment's notes, folded so the verdict stays the first thing read. A note that repeats per
 * layer, per step or per input (the sensitivity scan's one line per held-back layer, a quantization
 * fallback per node, a data file's cast per input, a pruning pass's settings per step) is grouped
 * with its siblings into one line with a count, the members listed in a fold. Siblings are notes
 * with the same topic (the words before the first ": ") or, without one, the same words once the
 * numbers are set aside. A long list is folded as a whole.
 */
import { escapeText as esc } from './escape.js';

export interface NoteGroup {
  /** What the members share: the topic, or the first member when they share their words only. */
  title: string;
  /** True when `title` is a topic and the members are written without it. */
  topic: boolean;
  items: string[];
}

/** Notes and groups, in the order their first member came. */
export function groupNotes(notes: string[]): (string | NoteGroup)[] {
  const byKey = new Map<string, { topic?: string; notes: string[] }>();
  for (const n of notes) {
    const topic = topicOf(n);
    const key = topic !== undefined ? `topic:${topic}` : `shape:${n.replace(/\d+(\.\d+)?/g, '#')}`;
    const entry = byKey.get(key) ?? { topic, notes: [] };
    entry.notes.push(n);
    byKey.set(key, entry);
  }
  return [...byKey.values()].map((e) => {
    if (e.notes.length === 1) return e.notes[0];
    if (e.topic !== undefined) return { title: e.topic, topic: true, items: e.notes.map((n) => n.slice(e.topic!.length + 2)) };
    return { title: e.notes[0], topic: false, items: e.notes };
  });
}

/** A short lead-in before ": " (no sentence of its own): "Sensitivity scan", "fallback", "data/eval.npy". */
function topicOf(note: string): string | undefined {
  const i = note.indexOf(': ');
  if (i <= 0 || i > 60) return undefined;
  const topic = note.slice(0, i);
  return /[.;]\s/.test(topic) ? undefined : topic;
}

/** More lines than this (single notes and groups) and the whole list is folded under "Notes (N)". */
const OPEN_NOTES = 5;

/** A note that asks for the reader's attention (a ⚠️ or "warning:" lead): never folded away. */
const WARNING = /^(⚠️|warning:)/i;

/**
 * The notes section: a list of single notes, then one fold per group. A long one is folded whole
 * under "Notes (N)", its warnings listed open before the fold.
 */
export function renderNotes(notes: string[], maxRows: number): string[] {
  if (notes.length === 0) return [];
  const entries = groupNotes(notes);
  const list = (items: string[]) => [...items.slice(0, maxRows).map((n) => `- ${esc(n, 500)}`), ...(items.length > maxRows ? [`- _… and ${items.length - maxRows} more in report.json_`] : [])];
  const body = (of: (string | NoteGroup)[]): string[] => {
    const singles = of.filter((e): e is string => typeof e === 'string');
    const out = singles.length ? [...list(singles), ''] : [];
    for (const g of of.filter((e): e is NoteGroup => typeof e !== 'string')) {
      const summary = g.topic ? `${esc(g.title, 100)}: ${g.items.length} notes` : `${esc(g.title, 200)} (and ${g.items.length - 1} more like it)`;
      out.push('<details>', `<summary>${summary}</summary>`, '', ...list(g.items), '', '</details>', '');
    }
    return out;
  };
  if (entries.length <= OPEN_NOTES) return ['**Notes**', '', ...body(entries)];
  const warnings = entries.filter((e): e is string => typeof e === 'string' && WARNING.test(e));
  const rest = entries.filter((e) => !warnings.includes(e as string));
  const folded = ['<details>', `<summary>${warnings.length ? 'Other notes' : 'Notes'} (${rest.reduce((n, e) => n + (typeof e === 'string' ? 1 : e.items.length), 0)})</summary>`, '', ...body(rest), '</details>', ''];
  return warnings.length ? ['**Notes**', '', ...list(warnings), '', ...folded] : folded;
}
