#!/usr/bin/env node
// Entry for `npx fleetmap ...`: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';
register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
