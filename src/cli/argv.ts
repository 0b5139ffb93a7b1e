import { UsageError } from '../errors.js';

// golang-migrate's command lines, accepted as they are (issue 10.3): a team can swap the binary
// name in its scripts and keep the rest. Go's flag package spells options with one dash and
// takes them before the command (`migrate -path ./migrations -database sqlite3://app.db up`);
// dbshift's own spellings are unchanged. This only rewrites argv; commander does the parsing.

/**
 * golang-migrate's option → dbshift's (`to: null`: accepted and dropped, because dbshift
 * already does what it asks). All take a value except -seq, -all, -verbose and -version.
 */
const ALIASES: Record<string, { to: string | null; value: boolean }> = {
  '-path': { to: '--dir', value: true },
  '--path': { to: '--dir', value: true },
  '-source': { to: '--dir', value: true },
  '-dir': { to: '--dir', value: true },
  '-database': { to: '--database', value: true },
  '-ext': { to: '--ext', value: true },
  '-digits': { to: '--digits', value: true },
  '-seq': { to: '--seq', value: false },
  '-all': { to: '--all', value: false },
  '-format': { to: '--format', value: true },
  '-tz': { to: '--tz', value: true },
  // golang-migrate's seconds to wait for the migration lock: dbshift's --wait.
  '-lock-timeout': { to: '--wait', value: true },
  // dbshift prints each migration as it starts and reads files itself: nothing to change.
  '-verbose': { to: null, value: false },
  '-prefetch': { to: null, value: true },
  '-version': { to: '--version', value: false },
  '-help': { to: '--help', value: false },
};

/**
 * Spellings that meant one thing to dbshift and another to golang-migrate (whose flag package
 * reads `--name` as `-name`): refused rather than guessed.
 */
const AMBIGUOUS: Record<string, string> = {
  '--lock-timeout':
    '--lock-timeout is ambiguous: golang-migrate\'s -lock-timeout N is the seconds to wait for the migration lock; dbshift\'s former --lock-timeout was PostgreSQL\'s lock_timeout in milliseconds. Write -lock-timeout N (one dash, golang-migrate\'s meaning, the same as --wait N) or --pg-lock-timeout MS (PostgreSQL\'s lock_timeout for each statement).',
};

/**
 * Rewrite golang-migrate's spellings into dbshift's and move the ones given before the command
 * behind it. Everything else is passed through untouched, in order.
 */
export function normalizeArgv(argv: string[]): string[] {
  const leading: string[] = [];
  const rest: string[] = [];
  let commandSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const [name, inline] = splitInline(arg);
    if (AMBIGUOUS[name]) throw new UsageError('ambiguous-option', AMBIGUOUS[name]!, { hint: 'See: dbshift --help', dataState: 'Nothing was changed.' });
    const alias = ALIASES[name];
    if (!alias) {
      if (!commandSeen && !arg.startsWith('-')) commandSeen = true;
      (commandSeen ? rest : leading).push(arg);
      continue;
    }
    const out = commandSeen ? rest : leading;
    if (!alias.value) {
      if (alias.to) out.push(alias.to);
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError('usage', `${name} needs a value.`, { hint: 'Give it a value; `dbshift --help` lists the options.' });
    if (alias.to) out.push(alias.to, convertValue(name, value));
  }
  if (leading.length === 0) return rest;
  // Options before the command go right after it, where commander reads a command's options.
  const [command, ...after] = rest;
  return command === undefined ? leading : [command, ...leading, ...after];
}

function splitInline(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  return eq > 0 && arg.startsWith('-') ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
}

function convertValue(name: string, value: string): string {
  if (name === '-source') {
    if (!value.startsWith('file://')) {
      throw new UsageError('unsupported-source', `-source ${value}: dbshift reads migrations from a directory only.`, {
        hint: 'Use -source file://DIR, -path DIR or --dir DIR.',
      });
    }
    return value.slice('file://'.length) || '.';
  }
  // golang-migrate accepts `-ext .sql` as well as `-ext sql`.
  if (name === '-ext') return value.replace(/^\./, '');
  return value;
}
