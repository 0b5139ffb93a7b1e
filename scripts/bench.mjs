// `npm run bench [-- --section v5|engine|lint|package] [the section's own options]`
//
// One entry for every benchmark; each section is a script of its own, run as a child process:
//   v5       bench/v5.mjs: the HealthSum v5 migration against the durable floor and the
//            operator guide's way (writes docs/performance.md)
//   engine   bench/engine.mjs: the versioned engine's cost per migration
//   lint     bench/lint.mjs: PostgreSQL's lint
//   package  bench/package.mjs: the installed size and `dbshift --version` against `node -e 0`
// Without --section, all four run in that order. Options go to the section named; without one,
// to v5 (whose options `npm run bench -- --reports …` always were), the others using their defaults.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECTIONS = { v5: 'bench/v5.mjs', engine: 'bench/engine.mjs', lint: 'bench/lint.mjs', package: 'bench/package.mjs' };

const args = process.argv.slice(2);
const at = args.indexOf('--section');
const named = at === -1 ? undefined : args[at + 1];
if (at !== -1 && !(named in SECTIONS)) {
  console.error(`bench: --section takes ${Object.keys(SECTIONS).join(', ')}, got ${named ?? 'nothing'}.`);
  process.exit(64);
}
const rest = at === -1 ? args : [...args.slice(0, at), ...args.slice(at + 2)];
const sections = named ? [named] : Object.keys(SECTIONS);

let failed = 0;
for (const section of sections) {
  if (sections.length > 1) console.log(`\n# bench: ${section}\n`);
  const run = spawnSync(process.execPath, [path.join(root, SECTIONS[section]), ...(named || section === 'v5' ? rest : [])], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`bench: ${section} exited ${run.status ?? run.signal}`);
    failed = run.status || 1;
  }
}
process.exit(failed);
