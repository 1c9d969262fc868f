// Entry point of `node dist/cli.js`: dispatches to one module per subcommand.

import { version } from '../../package.json';
import {
  CliFailure,
  CliUsageError,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  PROGRAM_NAME,
  errorLine,
  type CliCommand,
  type CliIo,
} from './cliCommand';
import { tracepointsCommand } from './tracepointsCommand';
import { runProbeCommand } from './runCommand';
import { traceTestCommand } from './traceTestCommand';

/** Every subcommand; add new ones here. */
export const CLI_COMMANDS: readonly CliCommand[] = [tracepointsCommand, runProbeCommand, traceTestCommand];

export function programHelp(commands: readonly CliCommand[] = CLI_COMMANDS): string {
  const width = Math.max(...commands.map((command) => command.name.length));
  const list = commands.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`).join('\n');
  return `Usage: ${PROGRAM_NAME} <command> [options]

Bitcoin Core USDT tracing from the command line.

Commands:
${list}

Options:
  -h, --help     Show this help (or \`${PROGRAM_NAME} <command> --help\`)
  -v, --version  Show the version

Exit status: 0 success, 1 error, 2 bad usage.
`;
}

/** Runs the command line; resolves to the exit code. Expected errors become one line on stderr. */
export async function runCli(argv: readonly string[], io: CliIo, commands: readonly CliCommand[] = CLI_COMMANDS): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) throw new CliUsageError('missing command (see --help)');
    if (first === '-h' || first === '--help' || first === 'help') {
      const topic = first === 'help' ? rest[0] : undefined;
      const command = topic === undefined ? undefined : commands.find((candidate) => candidate.name === topic);
      if (topic !== undefined && !command) throw new CliUsageError(`unknown command '${topic}' (see --help)`);
      io.out(command ? command.help : programHelp(commands));
      return EXIT_OK;
    }
    if (first === '-v' || first === '--version') {
      io.out(`${version}\n`);
      return EXIT_OK;
    }
    const command = commands.find((candidate) => candidate.name === first);
    if (!command) {
      const what = first.startsWith('-') ? `unknown option '${first}'` : `unknown command '${first}'`;
      throw new CliUsageError(`${what} (commands: ${commands.map((candidate) => candidate.name).join(', ')}; see --help)`);
    }
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof CliUsageError) {
      io.err(errorLine(error.message));
      return EXIT_USAGE;
    }
    if (error instanceof CliFailure) {
      io.err(errorLine(error.message));
      return EXIT_FAILURE;
    }
    if (io.signal.aborted) {
      io.err(errorLine('interrupted'));
      return EXIT_FAILURE;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.err(errorLine(`unexpected error: ${message}`));
    if (process.env.BITCOIN_USDT_DEBUG && error instanceof Error && error.stack) io.err(`${error.stack}\n`);
    return EXIT_FAILURE;
  }
}

function main(): void {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // `… | head` closes the pipe early: stop quietly instead of crashing with EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK);
  });
  const io: CliIo = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    signal: abort.signal,
  };
  void runCli(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
}

if (require.main === module) main();
