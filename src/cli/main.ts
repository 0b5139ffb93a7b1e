#!/usr/bin/env node
import { createRequire } from 'node:module';

// The bin. `dbshift --version` is what scripts and installers run to see that dbshift is there
// (and CI, at every start): it answers from package.json alone, before commander, dotenv or any
// of dbshift's modules load, so that it costs little more than starting Node (issue 23:
// at most twice `node -e 0`, measured by bench/package.mjs). Every other command line, `--version`
// with anything else included, goes to run.ts, where commander prints the same line.
const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V' || argv[0] === '-version')) {
  const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };
  process.stdout.write(`${version}\n`);
} else {
  await import('./run.js');
}
