// How the privileged helper is started in a visible terminal: `/bin/sh -c PRIVILEGED_TERMINAL_SCRIPT
// bitcoin-usdt REASON STATUS_FILE ARG...`. The script is a constant; the reason, the status file and the
// command arrive as positional parameters, so no value ever becomes shell code. The shell prints the reason
// and the command (quoted by the shell itself from the very arguments it then runs), runs it, writes its exit
// status to STATUS_FILE (how the extension learns that sudo failed before the helper connected), and on
// failure keeps the terminal open until Enter so its output (sudo's or the helper's message) stays readable.
// The shell itself always exits 0: the status file carries the command's status, and VS Code shows its own
// notification, quoting the shell's whole command line (this script, ~1,000 characters), for a terminal whose
// process exits non-zero after the user typed into it (`terminal.integrated.showExitAlert`; the Enter that
// closes a failed terminal is such typing), or for any non-zero exit right after launch.
// Ctrl-C reaches the command (the shell only traps it to stay alive); closing the terminal hangs up all of them.

/** The shell the terminal runs; absolute, so no PATH lookup decides it. */
export const TERMINAL_SHELL_PATH = '/bin/sh';

/** $0 of the script: what the shell calls itself in its own error messages. */
export const TERMINAL_SCRIPT_NAME = 'bitcoin-usdt';

/** Environment of the terminal (used with strictEnv, so nothing from VS Code's or the workspace's environment leaks in). */
export const TERMINAL_ENVIRONMENT: Readonly<Record<string, string>> = {
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
};

/**
 * Shell lines that print the positional parameters as one command line, each quoted by the shell itself (POSIX
 * single quotes where needed, as quoteForDisplay does), on the current line. Shared by every terminal script.
 */
export const PRINT_QUOTED_ARGUMENTS: readonly string[] = [
  'for arg in "$@"; do',
  '  case $arg in',
  "    '' | *[!A-Za-z0-9_./=:,+@%-]*)",
  '      rest=$arg quoted=',
  '      while :; do',
  '        case $rest in',
  "          *\\'*) quoted=$quoted${rest%%\\'*}\\'\\\\\\'\\'; rest=${rest#*\\'} ;;",
  '          *) quoted=$quoted$rest; break ;;',
  '        esac',
  '      done',
  "      printf \" '%s'\" \"$quoted\" ;;",
  "    *) printf ' %s' \"$arg\" ;;",
  '  esac',
  'done',
];

/**
 * Shell lines that run the positional parameters as the command and write its exit status to $status_file, into
 * $status. Ctrl-C stops the command, not the script, which stays to report. Shared by every terminal script.
 */
export const RUN_AND_WRITE_STATUS: readonly string[] = [
  // A handler (not SIG_IGN, which the command would inherit).
  'trap : INT',
  '"$@"',
  'status=$?',
  'trap - INT',
  // Silent when the extension already removed its private directory (session stopped from VS Code).
  "{ printf '%s\\n' \"$status\" > \"$status_file\"; } 2>/dev/null",
];

export const PRIVILEGED_TERMINAL_SCRIPT = [
  'reason=$1 status_file=$2',
  'shift 2',
  "printf '%s\\n' \"$reason\"",
  "printf '%s' 'Command:'",
  ...PRINT_QUOTED_ARGUMENTS,
  "printf '\\n\\n'",
  ...RUN_AND_WRITE_STATUS,
  'if [ "$status" -ne 0 ]; then',
  "  printf '\\n%s\\n' \"Exited with status $status. Press Enter to close this terminal.\"",
  '  read -r _ || :',
  'fi',
  'exit 0',
].join('\n');

/**
 * The shellArgs of the terminal: the fixed script, its name, the reason, the file the exit status is written
 * to (in the session's private directory), then the command.
 */
export function privilegedTerminalShellArgs(reason: string, statusFile: string, command: readonly string[]): string[] {
  if (command.length === 0) throw new Error('no command to run');
  const unprintable = [reason, statusFile, ...command].find(hasControlCharacter);
  if (unprintable !== undefined) {
    throw new Error(`refusing to run a command with control characters in ${JSON.stringify(unprintable)}: the terminal would not show it faithfully`);
  }
  return ['-c', PRIVILEGED_TERMINAL_SCRIPT, TERMINAL_SCRIPT_NAME, reason, statusFile, ...command];
}

/** Reads what the script wrote to the status file: the command's exit status, or undefined while it runs. */
export function parseExitStatus(text: string): number | undefined {
  const match = /^([0-9]{1,3})\n/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** How the script quotes an argument for display (POSIX single quotes), for messages outside the terminal. */
export function quoteForDisplay(argument: string): string {
  return argument !== '' && /^[A-Za-z0-9_./=:,+@%-]+$/.test(argument) ? argument : `'${argument.replace(/'/g, "'\\''")}'`;
}

export function hasControlCharacter(text: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}
