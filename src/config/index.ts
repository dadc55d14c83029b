/** The YAML config: load, validate against schemas/config.schema.json, typed result. */
export * from './types.js';
export { loadConfig, configFromObject, parseDuration, pointerToken, printable, CONFIG_DEFAULTS } from './load.js';
export { validateConfigObject, loadConfigSchema } from './schema.js';
