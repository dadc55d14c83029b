// `node --import ./log-resolutions.mjs`: writes "resolve <specifier>" to stderr for each ONNX Runtime
// package a module imports, so a test can see whether (and when) a runtime was loaded at all.
import { register } from 'node:module';

register('./log-resolutions-hook.mjs', import.meta.url);
