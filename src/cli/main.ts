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
  // pg asks whether it runs in a Cloudflare Worker when it loads: without a global `navigator`
  // (Node 20; Node 21+ has one) it builds a fetch Response to find out, which loads Node's whole
  // fetch implementation, 40-60 ms of every PostgreSQL command. The CLI owns its process, so it
  // gives it the `navigator` Node 21+ has; the library leaves an application's globals alone.
  if (typeof (globalThis as { navigator?: unknown }).navigator === 'undefined') {
    Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true, writable: true });
  }
  await import('./run.js');
}
