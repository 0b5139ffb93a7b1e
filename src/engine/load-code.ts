import fs from 'node:fs';
import { pathToFileURL } from 'node:url';
import { InputError } from '../errors.js';
import type { Check } from '../plans/unit.js';
import type { MigrationBody, MigrationContext, MigrationDefinition } from './types.js';

// Code migrations export synchronous up(ctx), down(ctx) and optionally verify(ctx): a
// better-sqlite3 transaction cannot stay open across an await. TypeScript is transpiled in
// memory (types stripped, nothing type-checked, nothing written next to the migration), so a
// team can keep its migrations in .ts without a build step. The module is imported from a
// data: URL, so it may import Node's built-in modules but not relative files: a migration is
// meant to be one self-contained, immutable file.

type CodeModule = {
  up?: (ctx: MigrationContext) => unknown;
  down?: (ctx: MigrationContext) => unknown;
  verify?: (ctx: MigrationContext, direction: 'up' | 'down') => unknown;
  /** `export const transaction = false` is the code form of `-- dbshift:no-transaction`. */
  transaction?: boolean;
  /** `export const deletesRows = ['sessions']`: the code form of `-- dbshift:deletes-rows`. */
  deletesRows?: unknown;
};

async function importModule(file: string, checksum: string): Promise<CodeModule> {
  const source = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.js')) {
    // Same file, same URL: Node caches by URL, so the query string makes an edited file load anew.
    return (await import(`${pathToFileURL(file).href}?sha256=${checksum}`)) as CodeModule;
  }
  const ts = (await import('typescript')).default;
  const output = ts.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, sourceMap: false, inlineSourceMap: true },
  });
  const syntax = (output.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (syntax.length > 0) {
    const first = syntax[0]!;
    const line = first.file && first.start !== undefined ? first.file.getLineAndCharacterOfPosition(first.start).line + 1 : undefined;
    throw new InputError('bad-migration', `${file}${line ? `:${line}` : ''}: ${ts.flattenDiagnosticMessageText(first.messageText, '\n')}`);
  }
  return (await import(`data:text/javascript;base64,${Buffer.from(output.outputText).toString('base64')}`)) as CodeModule;
}

function mustBeSync(file: string, what: string, result: unknown): void {
  if (result && typeof (result as Promise<unknown>).then === 'function') {
    throw new InputError('async-migration', `${file}: ${what}() returned a Promise. Migrations must be synchronous: a transaction cannot stay open across an await.`, {
      hint: 'Remove async/await from the migration; better-sqlite3 calls are synchronous already.',
    });
  }
}

function body(file: string, mod: CodeModule, direction: 'up' | 'down'): MigrationBody | undefined {
  const fn = mod[direction];
  if (fn === undefined) return undefined;
  if (typeof fn !== 'function') throw new InputError('bad-migration', `${file}: export ${direction} must be a function.`);
  const verify = mod.verify;
  const deletesRows = Array.isArray(mod.deletesRows) ? mod.deletesRows.map(String) : [];
  return {
    transactional: mod.transaction !== false,
    ...(deletesRows.length > 0 ? { deletesRows } : {}),
    run: (ctx) => mustBeSync(file, direction, fn(ctx)),
    ...(typeof verify === 'function'
      ? {
          verify: (ctx: MigrationContext) => {
            const result = verify(ctx, direction);
            mustBeSync(file, 'verify', result);
            return Array.isArray(result) ? (result as Check[]) : undefined;
          },
        }
      : {}),
  };
}

export async function loadCodeMigration(file: string, checksum: string): Promise<Pick<MigrationDefinition, 'up' | 'down'>> {
  let mod: CodeModule;
  try {
    mod = await importModule(file, checksum);
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError('bad-migration', `${file} could not be loaded: ${(error as Error).message}`, { cause: error });
  }
  const up = body(file, mod, 'up');
  if (!up) throw new InputError('bad-migration', `${file} exports no up(ctx) function.`);
  const down = body(file, mod, 'down');
  return { up, ...(down ? { down } : {}) };
}
