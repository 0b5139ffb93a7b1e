import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMAND_GROUPS, COMMANDS } from '../../src/cli/commands.js';
import type { CliIo } from '../../src/cli/io.js';
import { CLI, dbshift, ROOT } from '../support/cli.js';

// Help a person reads (issue 23): `dbshift --help` groups the commands, with examples, the
// environment and where the exit codes are; every help page fits 80 columns and breaks lines
// between words; each command lists only options that mean something there.

const WIDTH = 80;

/** Lines wider than 80 columns. */
function layoutProblems(text: string): string[] {
  return text.split('\n').filter((line) => line.length > WIDTH).map((line) => `${line.length} columns: ${line}`);
}

/** Every word the page holds, in order: wrapping must not split one (`o` / `r backed up`). */
function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

// An empty directory of its own: no .env to read, for the whole file.
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'dbshift-help-'));
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));
const help = (...args: string[]) => dbshift([...args, '--help'], { cwd, env: { COLUMNS: '200' } });

describe('dbshift --help', () => {
  const top = help();

  it('groups the commands: versioned migrations, the HealthSum migration, backups; each listed once, in its group', () => {
    expect(top.code).toBe(0);
    const titles = COMMAND_GROUPS.map((g) => g.title);
    expect(titles.map((t) => t.split(/[ ,(]/)[0])).toEqual(['Versioned', 'The', 'Backups']);
    let at = -1;
    for (const group of COMMAND_GROUPS) {
      const where = top.stdout.indexOf(`${group.title}:`);
      expect(where, group.title).toBeGreaterThan(at);
      at = where;
      for (const command of group.commands) expect(top.stdout.slice(where)).toMatch(new RegExp(`^  ${command.name}\\b`, 'm'));
    }
    expect(top.stdout).toMatch(/HealthSum/);
  });

  it('shows examples, the environment and where the exit codes are explained (a file the package ships)', () => {
    expect(top.stdout).toMatch(/^Examples:\n {2}dbshift /m);
    expect(top.stdout).toMatch(/^Environment .*:\n {2}DATABASE/m);
    expect(top.stdout).toMatch(/Exit codes: 0 ok, 64 usage/);
    expect(top.stdout).toContain('docs/exit-codes.md');
    expect(fs.existsSync(path.join(ROOT, 'docs/exit-codes.md'))).toBe(true);
  });

  it('fits 80 columns even on a wide terminal', () => {
    expect(layoutProblems(top.stdout)).toEqual([]);
  });
});

describe('each command\'s --help', () => {
  for (const command of COMMANDS) {
    it(`${command.name} --help fits 80 columns, breaks between words and names its command`, () => {
      const page = help(command.name);
      expect(page.code, page.stderr).toBe(0);
      expect(page.stdout).toMatch(new RegExp(`^Usage: dbshift ${command.name}\\b`));
      expect(layoutProblems(page.stdout)).toEqual([]);
      // The same page rendered 200 columns wide holds the same words: nothing was cut mid-word.
      const wide = dbshift([command.name, '--help'], { cwd, env: {} });
      expect(words(page.stdout).join(' ')).toBe(words(wide.stdout).join(' '));
    });
  }

  it('the commands that only read list no lock or statement timeouts; the ones that change a database do', () => {
    for (const reader of ['version', 'history', 'validate', 'lint']) {
      const page = help(reader).stdout;
      for (const flag of ['--wait', '--pg-lock-timeout', '--statement-timeout']) expect(page, `${reader} ${flag}`).not.toContain(flag);
    }
    for (const changer of ['up', 'down', 'goto', 'upgrade', 'downgrade', 'force', 'drop']) {
      expect(help(changer).stdout, changer).toContain('--pg-lock-timeout');
    }
  });
});

describe('the command table', () => {
  it('names each command and its aliases as the command\'s own module registers them', async () => {
    const io = { cwd, env: {}, stdout: process.stdout, stderr: process.stderr, signal: new AbortController().signal, exitCode: 0 } as unknown as CliIo;
    for (const entry of COMMANDS) {
      const program = new Command('dbshift');
      (await entry.load())(program, io);
      const registered = program.commands.find((c) => c.name() === entry.name);
      expect(registered, entry.name).toBeDefined();
      expect(registered!.aliases(), entry.name).toEqual(entry.aliases ?? []);
    }
  });
});

describe('what --version and --help load', () => {
  /** The files a command line loads (ESM resolutions, through a loader hook that lists them). */
  function loaded(...args: string[]): string[] {
    const log = path.join(cwd, `loaded-${args.join('_')}.txt`);
    const hook = path.join(cwd, 'hook.mjs');
    fs.writeFileSync(hook, `import fs from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); if (!r.url.startsWith('node:')) fs.appendFileSync(${JSON.stringify(log)}, r.url + '\\n'); return r; }\n`);
    const register = path.join(cwd, 'register.mjs');
    fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
    const run = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, CLI, ...args], { cwd, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    return [...new Set(fs.readFileSync(log, 'utf8').trim().split('\n'))].map((url) => path.relative(ROOT, new URL(url).pathname));
  }

  it('--version loads the bin alone; --help loads no command module, no library function, no database driver', () => {
    expect(loaded('--version')).toEqual(['dist/cli/main.js']);
    const forHelp = loaded('--help');
    const own = forHelp.filter((f) => f.startsWith('dist/'));
    expect(own.sort()).toEqual(['dist/cli/argv.js', 'dist/cli/commands.js', 'dist/cli/main.js', 'dist/cli/run.js', 'dist/errors.js', 'dist/results.js']);
    expect(forHelp.filter((f) => /better-sqlite3|[/]pg[/]|libpg-query|ora|date-fns|typescript|pglite/.test(f))).toEqual([]);
  });
});
