// What every subcommand of the command line implements, and the errors it may throw.

export const PROGRAM_NAME = 'bitcoin-usdt';

/** Exit codes: 0 success, 1 failure (file, ELF, no USDT, tool errors), 2 bad usage. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  /** Writes to standard output (text as given: add the newlines). */
  readonly out: (text: string) => void;
  /** Writes to standard error. */
  readonly err: (text: string) => void;
  /** Aborted on SIGINT/SIGTERM: long-running commands stop when it fires. */
  readonly signal: AbortSignal;
}

export interface CliCommand {
  /** The word after the program name, e.g. "tracepoints". */
  readonly name: string;
  /** One line for the program's --help. */
  readonly summary: string;
  /** Full help text of the command (printed for `<command> --help`). */
  readonly help: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Bad invocation: reported on one line, exit code 2. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

/** Expected failure (missing file, binary without USDT, …): reported on one line, exit code 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

/** `bitcoin-usdt: <message>` on a single line, whatever the message contains. */
export function errorLine(message: string): string {
  const oneLine = message.replace(/\s*[\r\n]+\s*/g, ' ').trim();
  return `${PROGRAM_NAME}: ${oneLine}\n`;
}
