import { describe, expect, it } from 'vitest';
import { SchemaModel } from '../../src/engine/drivers/postgres/lint-schema.js';
import { loadParser, splitPgStatements } from '../../src/engine/drivers/postgres/statements.js';

// What the PostgreSQL lint may skip replaying: each statement of a chain, in order, and whether
// the model vouches that PostgreSQL would accept it. A wrong "yes" would hide an sql-error, so
// every doubtful statement must come out "no".

async function vouched(sql: string): Promise<Array<[string, boolean]>> {
  await loadParser();
  const model = new SchemaModel();
  return splitPgStatements(sql).map((s) => [s.text.split(/\s+/).slice(0, 4).join(' '), model.accept(s)]);
}

describe('the schema model behind the replay', () => {
  it('vouches for plain DDL on names the chain made, and for nothing it cannot check', async () => {
    expect(
      await vouched(`
        CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL DEFAULT '', created_at timestamptz DEFAULT now());
        CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint REFERENCES users (id) ON DELETE CASCADE, n int DEFAULT 0);
        CREATE INDEX ix_posts_user_id ON posts (user_id);
        CREATE INDEX ix_posts_nope ON posts (usr_id);
        CREATE TABLE likes (post_id int REFERENCES posts (id));
        CREATE TABLE tags (id bigint PRIMARY KEY, label int DEFAULT 'x');
        ALTER TABLE users ADD CONSTRAINT users_email_short CHECK (length(email) < 200);
        ALTER TABLE users RENAME COLUMN email TO mail;
        CREATE INDEX ix_users_mail ON users (mail);
        CREATE TABLE users (id bigint);
        CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql;
        CREATE TABLE later (id bigint PRIMARY KEY);
      `),
    ).toEqual([
      ['CREATE TABLE users (id', true],
      ['CREATE TABLE posts (id', true],
      ['CREATE INDEX ix_posts_user_id ON', true],
      ['CREATE INDEX ix_posts_nope ON', false], // no such column
      ['CREATE TABLE likes (post_id', false], // int references bigint
      ['CREATE TABLE tags (id', false], // 'x' into an int
      ['ALTER TABLE users ADD', false], // a CHECK: its expression is PostgreSQL's to judge
      ['ALTER TABLE users RENAME', true],
      ['CREATE INDEX ix_users_mail ON', true],
      ['CREATE TABLE users (id', false], // exists
      ['CREATE FUNCTION f() RETURNS', false],
      ['CREATE TABLE later (id', false], // after a function the model no longer knows every name
    ]);
  });

  it('vouches for a CHECK of comparisons, IN lists, IS NULL and length() on the table\'s own columns, and for no other', async () => {
    expect(
      await vouched(`
        CREATE TABLE a (id bigint PRIMARY KEY, name text NOT NULL CHECK (length(name) < 200), n int CHECK (n IN (1, 2, 3)), ok bool, CHECK (name <> '' AND (n IS NULL OR n >= 0) AND NOT ok = false));
        ALTER TABLE a ADD COLUMN code text CHECK (lower(code) = code);
        CREATE TABLE b (id bigint PRIMARY KEY, name text CHECK (name ~ '^[a-z]+$'));
        CREATE TABLE c (id bigint PRIMARY KEY, n int CHECK (n > 'x'));
        CREATE TABLE d (id bigint PRIMARY KEY, n int CHECK (m > 0));
        CREATE TABLE e (id bigint PRIMARY KEY, at timestamptz CHECK (at > now()));
        CREATE TABLE f (id bigint PRIMARY KEY, name text CHECK (length(name, 'UTF8') < 3));
      `),
    ).toEqual([
      ['CREATE TABLE a (id', true],
      ['ALTER TABLE a ADD', true],
      ['CREATE TABLE b (id', false], // an operator the model does not know
      ['CREATE TABLE c (id', false], // a string compared with a number: PostgreSQL casts, and may refuse
      ['CREATE TABLE d (id', false], // no such column
      ['CREATE TABLE e (id', false], // a type and a function outside the list
      ['CREATE TABLE f (id', false], // length() with two arguments
    ]);
  });
});
