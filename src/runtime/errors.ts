import type { ArgsOf, Code } from "../diagnostics/codes.ts";
import { diagnostic } from "../diagnostics/diagnostic.ts";

/**
 * A failure the user caused at run time (a missing data directory, an image that does not
 * decode, a directory that holds no saved model). It carries `userMessage`, which the CLI
 * (src/cli/main.ts) prints as one clean line with exit status 1, never as a stack trace;
 * library callers get an ordinary Error whose message is the same text.
 */
export class RuntimeUserError extends Error {
  readonly userMessage: string;
  /** The diagnostic's code (src/diagnostics/codes.ts) when the failure has one; the CLI prints it as `error[CODE]`. */
  readonly code?: Code;

  constructor(userMessage: string, options?: { cause?: unknown; code?: Code }) {
    super(userMessage, options);
    this.name = "RuntimeUserError";
    this.userMessage = userMessage;
    if (options?.code) this.code = options.code;
  }
}

/** A RuntimeUserError with a code, its text from the one table of diagnostics. */
export function codedError<C extends Code>(code: C, args: ArgsOf<C>, cause?: unknown): RuntimeUserError {
  return new RuntimeUserError(diagnostic(code, args).message, { code, ...(cause === undefined ? {} : { cause }) });
}

/** The reason in a Node fs error, for messages: "no such file or directory" rather than "ENOENT: …, open '…'". */
export function fsReason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  switch (e?.code) {
    case "ENOENT":
      return "no such file or directory";
    case "ENOTDIR":
      return "not a directory";
    case "EISDIR":
      return "it is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "a loop of symbolic links";
    default:
      return e?.message ?? String(error);
  }
}
