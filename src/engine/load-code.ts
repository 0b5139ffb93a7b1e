import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type ts from 'typescript';
import { DataError, InputError, InternalError } from '../errors.js';
import { utf8Text } from '../files/text.js';
import { importOptional } from '../optional.js';
import type { Check } from '../results.js';
import type { MigrationBody, MigrationContext, MigrationDefinition } from './types.js';

// Code migrations export synchronous up(ctx), down(ctx) and optionally verify(ctx): a
// better-sqlite3 transaction cannot stay open across an await. TypeScript is transpiled in
// memory (types stripped, nothing type-checked, nothing written next to the migration), so a
// team can keep its migrations in .ts without a build step. TypeScript is an optional peer
// dependency (src/optional.ts): SQL-only projects do not install it. The module is imported from a
// data: URL, so it may import Node's built-in modules but not relative files: a migration is
// meant to be one self-contained, immutable file.
//
// Reading a migration is not running it. Discovery parses the file (what it exports, whether
// it wants a transaction) without evaluating a line of it, so `lint`, `validate`, `version`,
// `history` and every --dry-run change nothing; the module is imported only by `load()`,
// which the runner calls for the migrations it is about to apply.

export type CodeModule = {
  up?: (ctx: MigrationContext) => unknown;
  down?: (ctx: MigrationContext) => unknown;
  verify?: (ctx: MigrationContext, direction: 'up' | 'down') => unknown;
};

/** What a code migration declares, read from its syntax tree. */
export interface CodeShape {
  exports: Set<string>;
  /** `export const transaction = false` is the code form of `-- dbshift:no-transaction`. */
  transactional: boolean;
  /** `export const deletesRows = ['sessions']`: the code form of `-- dbshift:deletes-rows`. */
  deletesRows: string[];
}

function isExported(node: ts.Node, tsApi: typeof ts): boolean {
  return (tsApi.canHaveModifiers(node) ? tsApi.getModifiers(node) : undefined)?.some((m) => m.kind === tsApi.SyntaxKind.ExportKeyword) ?? false;
}

const RUNS = new Set(['up', 'down', 'verify']);

function isAsync(node: ts.Node | undefined, tsApi: typeof ts): boolean {
  if (!node || !(tsApi.isFunctionDeclaration(node) || tsApi.isFunctionExpression(node) || tsApi.isArrowFunction(node))) return false;
  return tsApi.getModifiers(node)?.some((m) => m.kind === tsApi.SyntaxKind.AsyncKeyword) ?? false;
}

/** Refused before anything runs: the rest of an async function would run after dbshift's checks, or after its rollback. */
function refuseAsync(file: string, name: string): never {
  throw new InputError('async-migration', `${file}: ${name}() is async. Migrations must be synchronous: a transaction cannot stay open across an await.`, {
    hint: 'Remove async/await from the migration; better-sqlite3 calls are synchronous already.',
    dataState: 'Nothing was changed.',
  });
}

function shapeOf(file: string, source: ts.SourceFile, tsApi: typeof ts, allowAsync: boolean): CodeShape {
  const shape: CodeShape = { exports: new Set(), transactional: true, deletesRows: [] };
  // `const transaction = false; export { up, transaction }`: what the exported names are bound to.
  const locals = new Map<string, ts.Expression | ts.FunctionDeclaration | undefined>();
  const exported = new Map<string, string>(); // exported name -> local name
  for (const statement of source.statements) {
    if (tsApi.isFunctionDeclaration(statement) && statement.name) {
      locals.set(statement.name.text, statement);
      if (isExported(statement, tsApi)) exported.set(statement.name.text, statement.name.text);
    }
    if (tsApi.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (!tsApi.isIdentifier(declaration.name)) {
          if (isExported(statement, tsApi)) throw new InputError('bad-migration', `${file}: export the migration's functions by name (export function up…), not by destructuring.`);
          continue;
        }
        locals.set(declaration.name.text, declaration.initializer);
        if (isExported(statement, tsApi)) exported.set(declaration.name.text, declaration.name.text);
      }
    }
    if (tsApi.isExportDeclaration(statement)) {
      if (statement.moduleSpecifier) throw new InputError('bad-migration', `${file}: re-exports from another module are not supported: a migration is one self-contained file.`);
      if (statement.exportClause && tsApi.isNamedExports(statement.exportClause)) {
        for (const element of statement.exportClause.elements) exported.set(element.name.text, (element.propertyName ?? element.name).text);
      }
    }
    if (tsApi.isExportAssignment(statement)) {
      throw new InputError('bad-migration', `${file}: export default is not read; export up, down and verify by name (export function up(ctx) {…}).`);
    }
    // CommonJS (.js in a project without "type": "module"): exports.up = …, module.exports = { up, … }.
    if (tsApi.isExpressionStatement(statement) && tsApi.isBinaryExpression(statement.expression) && statement.expression.operatorToken.kind === tsApi.SyntaxKind.EqualsToken) {
      const target = statement.expression.left.getText(source);
      const value = statement.expression.right;
      const named = /^(?:module\.)?exports\.([A-Za-z_$][\w$]*)$/.exec(target);
      if (named) {
        locals.set(`exports.${named[1]}`, value);
        exported.set(named[1]!, `exports.${named[1]}`);
      } else if (target === 'module.exports' && tsApi.isObjectLiteralExpression(value)) {
        for (const property of value.properties) {
          if ((tsApi.isPropertyAssignment(property) || tsApi.isMethodDeclaration(property)) && (tsApi.isIdentifier(property.name) || tsApi.isStringLiteral(property.name))) {
            locals.set(`exports.${property.name.text}`, tsApi.isPropertyAssignment(property) ? property.initializer : undefined);
            exported.set(property.name.text, `exports.${property.name.text}`);
            if (!allowAsync && tsApi.isMethodDeclaration(property) && property.modifiers?.some((m) => m.kind === tsApi.SyntaxKind.AsyncKeyword)) refuseAsync(file, property.name.text);
          } else if (tsApi.isShorthandPropertyAssignment(property)) {
            exported.set(property.name.text, property.name.text);
          }
        }
      }
    }
  }
  for (const [name, local] of exported) {
    shape.exports.add(name);
    const bound = locals.get(local);
    const value = bound && tsApi.isIdentifier(bound as ts.Node) ? locals.get((bound as ts.Identifier).text) : bound;
    if (!allowAsync && RUNS.has(name) && isAsync(value as ts.Node | undefined, tsApi)) refuseAsync(file, name);
    if (name === 'transaction') {
      if (value?.kind !== tsApi.SyntaxKind.FalseKeyword && value?.kind !== tsApi.SyntaxKind.TrueKeyword) {
        throw new InputError('bad-migration', `${file}: export const transaction must be the literal true or false.`);
      }
      shape.transactional = value.kind === tsApi.SyntaxKind.TrueKeyword;
    }
    if (name === 'deletesRows') {
      if (!value || !tsApi.isArrayLiteralExpression(value as ts.Node) || !(value as ts.ArrayLiteralExpression).elements.every(tsApi.isStringLiteral)) {
        throw new InputError('bad-migration', `${file}: export const deletesRows must be a list of table names in quotes.`);
      }
      shape.deletesRows = (value as ts.ArrayLiteralExpression).elements.map((e) => (e as ts.StringLiteral).text);
    }
  }
  return shape;
}

/** Transpile (TypeScript) and parse, reporting syntax errors with their line; evaluates nothing. */
async function readCode(file: string, allowAsync: boolean): Promise<{ javascript: string; shape: CodeShape }> {
  const tsApi = (await importOptional('typescript', () => import('typescript'))).default;
  const source = utf8Text(fs.readFileSync(file), file);
  const output = tsApi.transpileModule(source, {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { module: tsApi.ModuleKind.ESNext, target: tsApi.ScriptTarget.ES2022, sourceMap: false, inlineSourceMap: true },
  });
  const syntax = (output.diagnostics ?? []).filter((d) => d.category === tsApi.DiagnosticCategory.Error);
  if (syntax.length > 0) {
    const first = syntax[0]!;
    const line = first.file && first.start !== undefined ? first.file.getLineAndCharacterOfPosition(first.start).line + 1 : undefined;
    throw new InputError('bad-migration', `${file}${line ? `:${line}` : ''}: ${tsApi.flattenDiagnosticMessageText(first.messageText, '\n')}`);
  }
  const parsed = tsApi.createSourceFile(file, source, tsApi.ScriptTarget.ES2022, true, file.endsWith('.js') ? tsApi.ScriptKind.JS : tsApi.ScriptKind.TS);
  return { javascript: file.endsWith('.js') ? source : output.outputText, shape: shapeOf(file, parsed, tsApi, allowAsync) };
}

async function importModule(file: string, javascript: string, checksum: string): Promise<CodeModule> {
  if (file.endsWith('.js')) {
    // Same file, same URL: Node caches by URL, so the query string makes an edited file load anew.
    return (await import(`${pathToFileURL(file).href}?sha256=${checksum}`)) as CodeModule;
  }
  return (await import(`data:text/javascript;base64,${Buffer.from(javascript).toString('base64')}`)) as CodeModule;
}

function mustBeSync(file: string, what: string, result: unknown): void {
  if (result && typeof (result as Promise<unknown>).then === 'function') {
    // Its rejection is this error's business now, not an unhandled one that would end dbshift.
    (result as Promise<unknown>).then(undefined, () => undefined);
    throw new InputError('async-migration', `${file}: ${what}() returned a Promise. Migrations must be synchronous: a transaction cannot stay open across an await.`, {
      hint: 'Remove async/await from the migration; better-sqlite3 calls are synchronous already.',
    });
  }
}

export interface CodeOptions {
  /** PostgreSQL's migrations may be async (its driver awaits them inside the transaction); SQLite's may not. */
  allowAsync?: boolean;
}

/** A code migration read but not run: what it declares, and its module once `load()` imported it. */
export interface CodeMigration {
  shape: CodeShape;
  load(): Promise<void>;
  /** The imported module; only after `load()`. */
  module(): CodeModule;
}

/** Read (transpile and parse, never evaluate) a code migration; the PostgreSQL driver wraps the same reading in async bodies. */
export async function readCodeMigration(file: string, checksum: string, options: CodeOptions = {}): Promise<CodeMigration> {
  const { javascript, shape } = await readCode(file, !!options.allowAsync);
  if (!shape.exports.has('up')) throw new InputError('bad-migration', `${file} exports no up(ctx) function.`);
  let loaded: CodeModule | undefined;
  const load = async () => {
    if (loaded) return;
    let mod: CodeModule;
    try {
      mod = await importModule(file, javascript, checksum);
    } catch (error) {
      throw new InputError('bad-migration', `${file} could not be loaded: ${(error as Error)?.message ?? String(error)}`, { cause: error, dataState: 'Nothing was changed.' });
    }
    for (const name of ['up', 'down', 'verify'] as const) {
      if (shape.exports.has(name) && typeof mod[name] !== 'function') throw new InputError('bad-migration', `${file}: export ${name} must be a function.`, { dataState: 'Nothing was changed.' });
    }
    loaded = mod;
  };
  const module = (): CodeModule => {
    if (!loaded) throw new InternalError('migration-not-loaded', `${file} runs before it was loaded.`);
    return loaded;
  };
  return { shape, load, module };
}

/**
 * A migration that calls process.exit would end dbshift mid-transaction with whatever exit
 * code it chose (`dbshift up && deploy` would deploy). Inside the migration the call throws;
 * what it schedules for later is caught by the exit guard (exit-guard.ts).
 */
function withoutProcessExit<T>(file: string, fn: () => T): T {
  const exit = process.exit;
  process.exit = ((code?: number | string | null) => {
    throw new DataError('migration-called-exit', `${path.basename(file)} called process.exit(${code ?? ''}); a migration must not end the process.`);
  }) as typeof process.exit;
  try {
    return fn();
  } finally {
    process.exit = exit;
  }
}

export async function loadCodeMigration(file: string, checksum: string, options: CodeOptions = {}): Promise<Pick<MigrationDefinition, 'up' | 'down'>> {
  const { shape, load, module: loadedModule } = await readCodeMigration(file, checksum, options);
  const body = (direction: 'up' | 'down'): MigrationBody | undefined =>
    shape.exports.has(direction)
      ? {
          transactional: shape.transactional,
          ...(shape.deletesRows.length > 0 ? { deletesRows: shape.deletesRows } : {}),
          load,
          run: (ctx) => withoutProcessExit(file, () => mustBeSync(file, direction, loadedModule()[direction]!(ctx))),
          ...(shape.exports.has('verify')
            ? {
                verify: (ctx: MigrationContext) =>
                  withoutProcessExit(file, () => {
                    const result = loadedModule().verify!(ctx, direction);
                    mustBeSync(file, 'verify', result);
                    return Array.isArray(result) ? (result as Check[]) : undefined;
                  }),
              }
            : {}),
        }
      : undefined;
  const down = body('down');
  return { up: body('up')!, ...(down ? { down } : {}) };
}
