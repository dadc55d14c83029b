#!/usr/bin/env node
/** The CLI entry point: `prune-gate <command>`. All work lives in src/cli/program.ts and below. */
import { main } from './cli/program.js';

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
