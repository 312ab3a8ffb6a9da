#!/usr/bin/env node
// The `dpq` command. tsx runs the TypeScript sources directly, so no build step is needed.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
