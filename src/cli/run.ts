import { Command, CommanderError } from 'commander';
import dotenv from 'dotenv';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError, ExitCode, toToolError, UsageError } from '../errors.js';
import { failedResult, resultError } from '../results.js';
import { normalizeArgv } from './argv.js';
import { commandNamed, COMMANDS, programHelp } from './commands.js';
import type { CliIo } from './io.js';

// The only place that reads argv and the environment, loads .env, handles signals and
// decides the exit code. main.ts (the bin) imports this module for every command line but a
// bare `--version`.

async function main(argv: string[]): Promise<number> {
  // Everything dbshift creates (and the -wal/-shm/-journal SQLite creates beside it) is owner-only.
  process.umask(0o077);
  const json = argv.includes('--json');

  // A closed pipe (`| head`) or a full disk under stdout/stderr must change neither what
  // happens to the data nor the exit code: the run goes on, and the exit code stays the data
  // outcome (docs/commands.md: "Output that cannot be written"). Without a listener, the stream's
  // 'error' event would end the process with exit 1 wherever the run was.
  const lostOutput: Array<{ stream: string; code: string }> = [];
  for (const [name, stream] of [['stdout', process.stdout], ['stderr', process.stderr]] as const) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (!lostOutput.some((l) => l.stream === name)) lostOutput.push({ stream: name, code: error.code ?? 'error' });
    });
  }

  const controller = new AbortController();
  const io: CliIo = { cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal, exitCode: 0 };
  const onSignal = () => {
    // First Ctrl-C: stop at the next safe point and clean up. Removing the handlers gives the
    // second one the default action, which ends the process at once even while a synchronous
    // SQLite call holds the event loop (a JavaScript handler would wait for it); every step
    // survives a kill at any moment (docs/reliability.md), and the next run cleans up.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (!json) io.stderr.write('\ndbshift: stopping at the next safe point and cleaning up (Ctrl-C again to leave at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const code = await run(argv, io, json);
  // A failed write reports itself asynchronously: wait for what was written to land (or fail).
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  const stdoutLost = lostOutput.find((l) => l.stream === 'stdout');
  if (stdoutLost && !lostOutput.some((l) => l.stream === 'stderr')) {
    io.stderr.write(`dbshift: the result could not be written to stdout (${stdoutLost.code}); the exit code (${code}) is the outcome of the run.\n`);
  }
  return code;
}

async function run(rawArgv: string[], io: CliIo, json: boolean): Promise<number> {
  const require = createRequire(import.meta.url);
  const { version } = require('../../package.json') as { version: string };
  let usageMessage = '';
  const program = new Command('dbshift')
    .description('Safe versioned migrations for SQLite and PostgreSQL, and the HealthSum v5 migration.')
    .version(version, '-V, --version', 'print the version')
    .exitOverride();
  program.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    // Help is for a person reading a terminal: 80 columns at most, wrapped between words.
    getOutHelpWidth: () => Math.min(process.stdout.columns || 80, 80),
    getErrHelpWidth: () => Math.min(process.stderr.columns || 80, 80),
    // With --json the usage error becomes the JSON object instead.
    writeErr: (s) => (json ? undefined : io.stderr.write(s)),
    outputError: (s, write) => {
      usageMessage = s.replace(/^error: /, '').trim();
      write(s);
    },
  });
  // Only the command argv names is loaded (src/cli/commands.ts); the others are listed by name,
  // so that --help, --version and a usage error load no database code.
  const named = commandNamed(rawArgv) ?? commandNamed(safeNormalized(rawArgv));
  for (const entry of COMMANDS) {
    if (entry === named) (await entry.load())(program, io);
    else program.command(entry.name).aliases(entry.aliases ?? []).description(entry.summary);
  }
  program.helpInformation = () => programHelp();
  // A short "see --help" instead of the whole help, which would push the error off the screen.
  program.showHelpAfterError('See: dbshift --help');
  for (const command of program.commands) command.exitOverride().showHelpAfterError(`See: dbshift ${command.name()} --help`);
  // The command as named in argv, for a usage error's JSON object.
  const commandIn = (args: string[]) => args.map((a) => program.commands.find((c) => a === c.name() || c.aliases().includes(a))).find(Boolean)?.name() ?? 'dbshift';
  let argv: string[];
  try {
    argv = normalizeArgv(rawArgv);
  } catch (error) {
    return failWith(commandIn(rawArgv), error);
  }
  const commandName = commandIn(argv);

  const fail = (error: unknown): number => failWith(commandName, error);
  function failWith(commandName: string, error: unknown): number {
    const failure = failedResult(commandName, resultError(error, 'Nothing was changed.'));
    const toolError = toToolError(error);
    if (json) {
      // Even a failure outside a run (usage, configuration) keeps the one-JSON-object promise.
      io.stdout.write(`${JSON.stringify(failure, null, 2)}\n`);
    } else {
      io.stderr.write(`dbshift: ${toolError.message}\n${toolError.hint ? `Next: ${toolError.hint}\n` : ''}`);
    }
    if (toolError.exitCode === ExitCode.internal && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return toolError.exitCode;
  }

  const secretArg = argv.findIndex((a) => /^--?secret|^--?key\b/i.test(a));
  if (secretArg !== -1) {
    // Never echo the argument: it may hold the key itself.
    return fail(new UsageError('secret-on-command-line', 'SECRET_KEY is never accepted on the command line (other users can read argv).', {
      hint: 'Set it in the environment or in .env.',
    }));
  }

  try {
    io.envFile = loadEnvFile(io);
  } catch (error) {
    return fail(error);
  }

  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return ExitCode.ok;
      const message = usageMessage || error.message.replace(/^error: /, '');
      if (json) {
        const hint = commandName === 'dbshift' ? 'See: dbshift --help' : `See: dbshift ${commandName} --help`;
        io.stdout.write(`${JSON.stringify(failedResult(commandName, { code: 'usage', message, hint, dataState: 'Nothing was changed.', exitCode: ExitCode.usage }), null, 2)}\n`);
      }
      return ExitCode.usage;
    }
    return fail(error);
  }
}

/** argv as normalizeArgv rewrites it, or as given when it refuses it (the refusal is reported below). */
function safeNormalized(argv: string[]): string[] {
  try {
    return normalizeArgv(argv);
  } catch {
    return argv;
  }
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) {
      setImmediate(resolve);
      return;
    }
    for (const event of ['drain', 'error', 'close']) stream.once(event, () => resolve());
  });
}

/**
 * Load .env (or the file ENV_FILE names) into the environment; the environment wins. A named
 * ENV_FILE that does not exist is a configuration error, not something to skip silently.
 */
function loadEnvFile(io: CliIo): string | undefined {
  const named = io.env.ENV_FILE;
  const file = path.resolve(io.cwd, named || '.env');
  if (named && !fs.existsSync(file)) {
    throw new ConfigError('env-file-missing', `ENV_FILE=${named} does not exist (${file}).`, {
      hint: 'Fix the path in ENV_FILE, or unset it to read .env in the current directory.',
      dataState: 'Nothing was changed.',
    });
  }
  if (!fs.existsSync(file)) return undefined;
  dotenv.config({ path: file, quiet: true, processEnv: io.env as Record<string, string> });
  return file;
}

const exitCode = await main(process.argv.slice(2));
// The run is over and its output flushed: exit now with its code. A code migration may have left
// a timer or a child process behind (setInterval, spawn) that would keep Node alive for ever,
// with SIGTERM going to a handler that only aborts a run already finished.
process.exit(exitCode);
