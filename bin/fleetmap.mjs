#!/usr/bin/env node
// Entry for `npx fleetmap ...`: loads the TypeScript sources through tsx. Errors: one line on
// stderr, exit 2 (usage) or 1 (run time); see cli/main.ts `run`.
import { register } from 'tsx/esm/api';
register();
const { run, installProcessGuards } = await import('../cli/main.ts');
const argv = process.argv.slice(2);
installProcessGuards(argv);
process.exitCode = await run(argv);
