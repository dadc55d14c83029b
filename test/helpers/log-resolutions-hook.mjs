// The resolve hook of log-resolutions.mjs (module hooks run on their own thread: write to fd 2 directly).
import { writeSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  if (/^onnxruntime-(node|web)$/.test(specifier)) writeSync(2, `resolve ${specifier}\n`);
  return next(specifier, context);
}
