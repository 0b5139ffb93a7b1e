import { describe, expect, it } from 'vitest';
import { loadParser, preparsePgFiles, splitPgStatements } from '../../src/engine/drivers/postgres/statements.js';

// Lint parses a whole directory in one call to the parser; each file must come out exactly as
// if it had been parsed alone (texts, lines, types), and files that would run together (an
// unterminated string in one) must be left to the one-by-one parse, which names the error.

describe('parsing many files in one call', () => {
  it('gives each file the statements and lines it has alone', async () => {
    await loadParser();
    const files = [
      'CREATE TABLE a (x int);\n-- trailing comment',
      '-- lead\n/* block */ SELECT 1;\nSELECT 2',
      "SELECT 'é'; SELECT $$ ; $$;\n\n",
      'SELECT 3;;SELECT 4;',
      "INSERT INTO t VALUES ('x\ny');\nCOMMIT",
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n',
    ];
    // Alone (a trailing space makes each a different text, so these are not the batch's).
    const alone = files.map((f) => splitPgStatements(`${f} `));
    preparsePgFiles(files);
    expect(files.map((f) => splitPgStatements(f))).toEqual(alone);
  });

  it('leaves files that run together to the one-by-one parse', async () => {
    await loadParser();
    preparsePgFiles(["SELECT 'x", "SELECT 1; SELECT ' y';"]);
    expect(() => splitPgStatements("SELECT 'x")).toThrow(/unterminated quoted string/);
    expect(splitPgStatements("SELECT 1; SELECT ' y';").map((s) => s.text)).toEqual(['SELECT 1', "SELECT ' y'"]);
  });
});
