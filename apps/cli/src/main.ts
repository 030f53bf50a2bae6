// The `lmkit` program: global options, the command groups, and exit codes.
import { Command, CommanderError } from 'commander';
import { commandGroups } from './commands/index.js';
import { EXIT, reportError } from './io.js';

/** Builds the `lmkit` command tree (exported for tests and for embedding). */
export function buildProgram(): Command {
  const program = new Command('lmkit')
    .description('lmkit: clean a corpus, train a tokenizer and a transformer LM, and run it, all in TypeScript')
    .version('0.1.0', '-v, --version')
    .option('--json', 'machine-readable output: results as JSON on stdout, progress and errors as JSON lines on stderr')
    .showHelpAfterError('(run with --help for usage)')
    .configureHelp({ showGlobalOptions: true });
  program.exitOverride();
  for (const register of commandGroups) register(program);
  return program;
}

/** Runs the CLI with `argv` (as in process.argv) and sets process.exitCode. */
export async function main(argv: string[] = process.argv): Promise<void> {
  const program = buildProgram();
  const json = argv.includes('--json');
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return;
    }
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.exitCode = reportError(error, json);
  }
}
