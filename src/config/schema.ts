/**
 * Validates a parsed config against schemas/config.schema.json; messages come from the shared
 * formatter (util/json-schema.ts) with the config's own wording for durations, input maps, recipe
 * stages and metric names.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
// Imported, not read from disk: the bundle in dist/ must carry it (the release tree has no schemas/).
import configSchema from '../../schemas/config.schema.json' with { type: 'json' };
import { compileSchema, got, schemaProblems } from '../util/json-schema.js';

let validator: ValidateFunction | undefined;

export function loadConfigSchema(): Record<string, unknown> {
  return configSchema as Record<string, unknown>;
}

/** Returns one message per problem, e.g. `/recipe/0/prune/target must be < 1 (got 1.5)`; empty when valid. */
export function validateConfigObject(obj: unknown): string[] {
  validator ??= compileSchema(loadConfigSchema());
  return schemaProblems(validator, obj, { special: configWording });
}

function metricNames(): string {
  const defs = (configSchema as { definitions: { metricName: { enum: string[] } } }).definitions;
  return defs.metricName.enum.join(', ');
}

function configWording(e: ErrorObject, at: string): string | undefined {
  switch (e.keyword) {
    case 'minProperties':
    case 'maxProperties':
      if (/\/recipe\/\d+$/.test(e.instancePath)) return `${at}: each recipe stage has exactly one of 'prune:' or 'quantize:'`;
      return `${at} ${e.message} (got ${got(e.data)})`;
    case 'oneOf':
      if (e.instancePath.endsWith('/time-budget') || e.instancePath.endsWith('/wall-time')) {
        return `${at} must be a duration like 30s, 2m, 500ms, or a positive number of seconds (got ${got(e.data)})`;
      }
      if (e.instancePath.endsWith('/inputs')) {
        return `${at} must be a map of input name -> .npy file, or one path to an .npz, a .jsonl or a test_data_set folder (got ${got(e.data)})`;
      }
      return undefined;
    case 'anyOf':
      if (/^\/metrics\/\d+$/.test(e.instancePath)) return `${at} must be a metric name (${metricNames()}) or <metric>:<output> (got ${got(e.data)})`;
      return undefined;
    case 'propertyNames':
      return `${at}: key '${String((e.params as { propertyName: unknown }).propertyName)}' is not a metric name`;
    default:
      return undefined;
  }
}
