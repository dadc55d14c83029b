import { groupNotes, renderNotes } from '../../src/report/notes.js';

const scan = (layer: string, verdict: string) => `Sensitivity scan: ${layer} cut alone to 20 % drifts 1.1 pt (over 0.5 pt, half the budget): ${verdict}.`;

test('notes that repeat per layer become one group with their topic; the rest stay single, in order', () => {
  const notes = ['Default recipe for this model: structured 30 %, then int8-static.', scan('conv1', 'not cut'), 'weights 1.6 MiB -> 410 KiB', scan('conv2', 'cut to 10 % at most'), 'fallback: excluded conv1: drift 0.20'];
  expect(groupNotes(notes)).toEqual([
    'Default recipe for this model: structured 30 %, then int8-static.',
    { title: 'Sensitivity scan', topic: true, items: ['conv1 cut alone to 20 % drifts 1.1 pt (over 0.5 pt, half the budget): not cut.', 'conv2 cut alone to 20 % drifts 1.1 pt (over 0.5 pt, half the budget): cut to 10 % at most.'] },
    'weights 1.6 MiB -> 410 KiB',
    'fallback: excluded conv1: drift 0.20',
  ]);
});

test('notes without a topic that differ only in their numbers (one per pruning step) are grouped under the first', () => {
  const notes = ['importance activation, global target 0.1, repair least-squares', 'importance activation, global target 0.2, repair least-squares', 'The sensitivity scan failed (no groups); all layers follow the schedule.'];
  const groups = groupNotes(notes);
  expect(groups[0]).toEqual({ title: notes[0], topic: false, items: notes.slice(0, 2) });
  expect(groups[1]).toBe(notes[2]);
  const md = renderNotes(notes, 50).join('\n');
  expect(md).toContain('<summary>importance activation, global target 0.1, repair least-squares (and 1 more like it)</summary>');
});

test('a sentence with a colon later on is not a topic', () => {
  const n = 'The committed model already scores below the frozen baseline, so the optimizer had: 1 point.';
  expect(groupNotes([n, n.replace('1 point', '3 point')])).toEqual([{ title: n, topic: false, items: [n, n.replace('1 point', '3 point')] }]);
  expect(groupNotes([n, 'The wall-time budget ran out before "x" finished; later steps were not tried.'])).toHaveLength(2);
});

test('a short list is open under **Notes**; a long one is folded whole, with its count', () => {
  expect(renderNotes([], 50)).toEqual([]);
  const short = renderNotes(['a', 'b', scan('c1', 'not cut'), scan('c2', 'not cut')], 50);
  expect(short[0]).toBe('**Notes**');
  expect(short).toContain('<summary>Sensitivity scan: 2 notes</summary>');
  const long = renderNotes(['one note.', 'two notes.', 'three notes!', 'four notes?', 'five.', 'six, a longer one.'], 50);
  expect(long.slice(0, 2)).toEqual(['<details>', '<summary>Notes (6)</summary>']);
  expect(long).toContain('- six, a longer one.');
});

test('each list is capped at maxRows with the count left out', () => {
  const many = Array.from({ length: 30 }, (_, i) => scan(`conv${i}`, 'not cut'));
  const md = renderNotes(many, 5);
  expect(md.filter((l) => l.startsWith('- conv'))).toHaveLength(5);
  expect(md).toContain('- _… and 25 more in report.json_');
});

test('a folded list keeps its warnings open before the fold', () => {
  const warning = '⚠️ Search samples: 300 (one is 0.33 pt).';
  const md = renderNotes(['one note.', warning, 'two notes.', 'three notes!', 'four notes?', 'five.', scan('c1', 'not cut'), scan('c2', 'not cut')], 50);
  expect(md.slice(0, 4)).toEqual(['**Notes**', '', `- ${warning}`, '']);
  expect(md).toContain('<summary>Other notes (7)</summary>');
  expect(md.filter((l) => l.includes('Search samples'))).toHaveLength(1);
});
