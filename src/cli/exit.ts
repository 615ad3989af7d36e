/**
 * Exit codes (the README's table): 0 clean (warnings allowed), 1 the input has errors, 2 the
 * command line is wrong, 70 a bug in effnet (sysexits.h's EX_SOFTWARE).
 */
export const EXIT = { ok: 0, errors: 1, usage: 2, internal: 70 } as const;

/** Raised for a wrong command line; main prints it with the command's usage and exits 2. */
export class UsageError extends Error {}
