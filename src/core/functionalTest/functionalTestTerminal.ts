// Running a functional test in a visible terminal as the user (Trace functional test… in VS Code): which files
// are functional tests, where their test class is (the CodeLens), and the terminal's fixed script. The script is
// a constant; the test's name, the status file and the command arrive as positional parameters, so no path or
// argument of the workspace ever becomes shell code. It prints the command (quoted by the shell from the very
// arguments it then runs), runs it, writes the exit status to the status file (how the extension learns the test
// ended), says whether the test passed, and keeps the terminal open until Enter so the output stays readable.

import { basename, dirname } from 'node:path';
import type { FunctionalTestPlan } from './functionalTest';
import { PRINT_QUOTED_ARGUMENTS, RUN_AND_WRITE_STATUS, hasControlCharacter } from '../process/privilegedTerminalScript';

/** The shell the test terminal runs; absolute, so no PATH lookup decides it. */
export const TEST_TERMINAL_SHELL_PATH = '/bin/sh';
/** Sets the test's environment on its own command line, so the terminal shows it. */
const ENV_PROGRAM = '/usr/bin/env';

export const FUNCTIONAL_TEST_TERMINAL_SCRIPT = [
  'name=$1 status_file=$2',
  'shift 2',
  "printf '%s\\n' \"Functional test $name, run as you with the probes attached to every process of the build.\"",
  "printf '%s' 'Command:'",
  ...PRINT_QUOTED_ARGUMENTS,
  "printf '\\n\\n'",
  ...RUN_AND_WRITE_STATUS,
  'if [ "$status" -eq 0 ]; then',
  "  printf '\\n%s\\n' \"$name passed.\"",
  'else',
  "  printf '\\n%s\\n' \"$name failed (exit status $status).\"",
  'fi',
  "printf '%s\\n' 'The probes stop now. Press Enter to close this terminal.'",
  'read -r _ || :',
  // Always 0: VS Code would otherwise show a notification quoting this whole script for a failed test.
  'exit 0',
].join('\n');

/** A test class line: `class PingTest(BitcoinTestFramework):` (0-based line and column of `class`). */
export interface TestClassLine {
  readonly line: number;
  readonly column: number;
  readonly className: string;
}

const TEST_CLASS = /^([ \t]*)class[ \t]+([A-Za-z_][A-Za-z0-9_]*)[ \t]*\([ \t]*BitcoinTestFramework[ \t]*\)[ \t]*:/;

/** Every `class …(BitcoinTestFramework):` line of a Python file's text. */
export function testClassLines(text: string): TestClassLine[] {
  const found: TestClassLine[] = [];
  text.split(/\r?\n/).forEach((lineText, line) => {
    const match = TEST_CLASS.exec(lineText);
    if (match) found.push({ line, column: match[1].length, className: match[2] });
  });
  return found;
}

/**
 * Whether a path is one of Bitcoin Core's functional tests: a `.py` file directly in a `test/functional`
 * directory (`test_runner.py` included; not the framework's own modules in its subdirectories).
 */
export function isFunctionalTestFile(path: string): boolean {
  const directory = dirname(path);
  const name = basename(path);
  return name.endsWith('.py') && !name.startsWith('_') && basename(directory) === 'functional' && basename(dirname(directory)) === 'test';
}

/** The test to run when none is named: the active editor's file when it is a functional test. */
export function testOfActiveEditor(activePath: string | undefined): string | undefined {
  return activePath !== undefined && isFunctionalTestFile(activePath) ? activePath : undefined;
}

/** The functional tests among these paths, by name (test_runner.py first: it runs the others). */
export function listedFunctionalTests(paths: readonly string[]): string[] {
  const rank = (path: string): string => `${basename(path) === 'test_runner.py' ? 0 : 1}${basename(path)}\0${path}`;
  return [...new Set(paths.filter(isFunctionalTestFile))].sort((a, b) => (rank(a) < rank(b) ? -1 : rank(a) > rank(b) ? 1 : 0));
}

/** The command the terminal runs: the plan's environment set by env(1) on the command line, then the test. */
export function testTerminalCommand(plan: Pick<FunctionalTestPlan, 'argv' | 'env'>): string[] {
  return [ENV_PROGRAM, ...Object.entries(plan.env).map(([name, value]) => `${name}=${value}`), ...plan.argv];
}

/** The test terminal's shellArgs: the fixed script, its name, the test's name, the status file, the command. */
export function functionalTestTerminalArgs(name: string, statusFile: string, command: readonly string[]): string[] {
  if (command.length === 0) throw new Error('no command to run');
  const unprintable = [name, statusFile, ...command].find(hasControlCharacter);
  if (unprintable !== undefined) {
    throw new Error(`refusing to run a test with control characters in ${JSON.stringify(unprintable)}: the terminal would not show it faithfully`);
  }
  return ['-c', FUNCTIONAL_TEST_TERMINAL_SCRIPT, 'bitcoin-usdt-test', name, statusFile, ...command];
}
