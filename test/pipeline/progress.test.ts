/** The job log's progress lines: time since the start, and what is left of a phase's wall-time budget. */
import { progressLog, seconds } from '../../src/pipeline/progress.js';

test('each line carries the elapsed time; inside a budgeted phase, what is left of it', () => {
  let t = 0;
  const lines: string[] = [];
  const p = progressLog((m) => lines.push(m), () => t);
  t = 1200;
  p.log('evaluating model.onnx');
  p.phase('optimize', 60_000);
  t = 21_200;
  p.log('step 1: structured 10 %: kept');
  t = 90_000;
  p.log('step 2: int8: kept');
  p.phase('benchmark');
  t = 700_000;
  p.log('benchmark round 1/8');
  expect(lines).toEqual([
    '[1.2 s] evaluating model.onnx',
    '[21 s] step 1: structured 10 %: kept (about 40 s left of the wall-time budget)',
    '[90 s] step 2: int8: kept (about 0.0 s left of the wall-time budget)',
    '[11 min 40 s] benchmark round 1/8',
  ]);
  expect(seconds(9_949)).toBe('9.9 s');
});
