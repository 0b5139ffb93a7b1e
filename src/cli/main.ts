#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import dotenv from 'dotenv';
import { createRequire } from 'node:module';
import { ExitCode, toToolError } from '../errors.js';
import { registerBackup } from './commands/backup.js';
import { registerBackups } from './commands/backups.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPlan } from './commands/plan.js';
import { registerRestore } from './commands/restore.js';
import { registerSample } from './commands/sample.js';
import { registerVerify } from './commands/verify.js';
import { registerUp } from './commands/up.js';
import { registerDown } from './commands/down.js';
import { registerGoto } from './commands/goto.js';
import { registerUpgrade } from './commands/upgrade.js';
import { registerDowngrade } from './commands/downgrade.js';
import { registerVersion } from './commands/version.js';
import { registerHistory } from './commands/history.js';
import { registerForce } from './commands/force.js';
import { registerCreate } from './commands/create.js';
import { registerValidate } from './commands/validate.js';
import { registerLint } from './commands/lint.js';
import type { CliIo } from './io.js';

// The only place that reads argv and the environment, loads .env, handles signals and
// decides the exit code.

/** Commands, in the order --help lists them. Adding a command is one file plus one line here. */
const COMMANDS = [
  registerMigrate, registerPlan, registerVerify, registerBackup, registerBackups, registerRestore, registerSample,
  // Versioned migrations (golang-migrate files, Alembic aliases).
  registerUp, registerDown, registerGoto, registerUpgrade, registerDowngrade, registerVersion, registerHistory,
  registerForce, registerCreate, registerValidate, registerLint,
];

async function main(argv: string[]): Promise<number> {
  // Everything dbshift creates (and the -wal/-shm/-journal SQLite creates beside it) is owner-only.
  process.umask(0o077);
  // The environment wins over .env; ENV_FILE names another file (the shell wrapper passes it on).
  dotenv.config({ path: process.env.ENV_FILE || '.env', quiet: true });

  const controller = new AbortController();
  const onSignal = () => {
    // First Ctrl-C: stop at the next safe point and clean up. Second: leave now.
    if (controller.signal.aborted) process.exit(ExitCode.interrupted);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const io: CliIo = { cwd: process.cwd(), env: process.env, stdout: process.stdout, stderr: process.stderr, signal: controller.signal, exitCode: 0 };
  const secretArg = argv.findIndex((a) => /^--?secret|^--?key\b/i.test(a));
  if (secretArg !== -1) {
    // Never echo the argument: it may hold the key itself.
    io.stderr.write('dbshift: SECRET_KEY is never accepted on the command line (other users can read argv). Set it in the environment or in .env.\n');
    return ExitCode.usage;
  }

  const require = createRequire(import.meta.url);
  const { version } = require('../../package.json') as { version: string };
  const program = new Command('dbshift')
    .description('Migrate production SQLite databases safely: snapshot, checksummed backup, atomic transform, full verification, atomic publish.')
    .version(version)
    .showHelpAfterError()
    .exitOverride();
  program.configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
  for (const register of COMMANDS) register(program, io);
  for (const command of program.commands) command.exitOverride().showHelpAfterError();

  try {
    await program.parseAsync(argv, { from: 'user' });
    return io.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const toolError = toToolError(error);
    if (argv.includes('--json')) {
      // Even a failure outside a run (e.g. bad configuration) keeps the one-JSON-object promise.
      const { code, message, hint, exitCode } = toolError;
      io.stdout.write(`${JSON.stringify({ ok: false, status: 'failed', error: { code, message, ...(hint ? { hint } : {}), exitCode } }, null, 2)}\n`);
    }
    io.stderr.write(`dbshift: ${toolError.message}\n${toolError.hint ? `Next: ${toolError.hint}\n` : ''}`);
    if (toolError.exitCode === ExitCode.internal && error instanceof Error) io.stderr.write(`${error.stack}\n`);
    return toolError.exitCode;
  }
}

process.exitCode = await main(process.argv.slice(2));
