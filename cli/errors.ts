/** The command layer's errors: defined in shared/cli-errors.ts (edge/ and cloud/ import only shared/). */
export * from '../shared/cli-errors.ts';
