import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { ROOT } from './example-eval.js';

test.each(['mnist', 'transformer'])('examples/%s/prune-gate.yml loads with the shared config interface', (name) => {
  const file = path.join(ROOT, 'examples', name, 'prune-gate.yml');
  const config = loadConfig(file);
  expect(config.task).toBe('classification');
  expect(config.model).toBe(path.join(ROOT, 'examples', name, 'model.onnx'));
  expect(config.data.eval?.inputs).toEqual({ input: path.join(ROOT, 'examples', name, 'data/eval_x.npy') });
  for (const f of [config.model, config.data.eval!.labels!, ...Object.values(config.data.calibration!.inputs)]) expect(fs.existsSync(f)).toBe(true);
});
