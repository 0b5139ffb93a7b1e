// Scenarios ported from the peers' own test suites (facts, not code): Alembic's autogenerate
// tests (test_autogen_diffs.py, test_autogen_indexes.py, test_autogen_fks.py, test_autogen_
// computed.py), migra's test cases (tests/FIXTURES: dependencies, constraints, everything) and
// sqldef's (cmd/sqlite3def, cmd/psqldef tests.yml: renames with @renamed, generated columns,
// indexes, triggers). Each names the current migrations, the desired schema, the rows, the
// options that decide what diff will not guess, and what must hold after up and after down.

export interface DiffFixture {
  name: string;
  /** Where the scenario comes from. */
  ported: string;
  /** The current migrations (up files; a down file is derived for lint's sake). */
  migrations: Record<string, string>;
  desired: string;
  /** Rows inserted after the current migrations ran. */
  rows?: string;
  /** diff without `args` must refuse (65) with this finding, writing nothing. */
  refusedWithout?: string;
  args?: string[];
  /** [query, expected rows] after up. */
  afterUp?: Array<[string, unknown[]]>;
  /** Statements that must fail after up (a new constraint at work). */
  refusedAfterUp?: string[];
  afterDown?: Array<[string, unknown[]]>;
  /** The generated up file must (not) contain these. */
  upContains?: RegExp[];
  upLacks?: RegExp[];
  /** Text the generated document must name (the data-loss section). */
  docNames?: string[];
}

export const SQLITE_FIXTURES: DiffFixture[] = [
  {
    name: 'rename-column',
    ported: 'the peers side by side (issue 22): users.name -> full_name; sqldef sqlite3def RenameColumn (-- @renamed from=name)',
    migrations: { '000001_users.up.sql': 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\nCREATE INDEX ix_users_name ON users (name);\n' },
    desired: 'CREATE TABLE users (id INTEGER PRIMARY KEY, full_name TEXT NOT NULL);\nCREATE INDEX ix_users_name ON users (full_name);\n',
    rows: "INSERT INTO users (id, name) VALUES (1, 'Ada Lovelace'), (2, 'Grace Hopper');",
    refusedWithout: 'possible-rename',
    args: ['--rename', 'users.name=full_name'],
    upContains: [/RENAME COLUMN name TO full_name/],
    upLacks: [/DROP TABLE/],
    afterUp: [['SELECT id, full_name FROM users ORDER BY id', [{ id: 1, full_name: 'Ada Lovelace' }, { id: 2, full_name: 'Grace Hopper' }]]],
    afterDown: [['SELECT id, name FROM users ORDER BY id', [{ id: 1, name: 'Ada Lovelace' }, { id: 2, name: 'Grace Hopper' }]]],
  },
  {
    name: 'int-to-bigint-with-view-and-trigger',
    ported: 'Alembic test_autogen_diffs (compare_type Integer -> BigInteger); sqldef sqlite3def view and trigger cases; sqlite.org 12-step rebuild',
    migrations: {
      '000001_accounts.up.sql':
        'CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, balance INT NOT NULL DEFAULT 0, CHECK (balance >= 0));\nCREATE TABLE audit (account_id INTEGER, balance INT);\nCREATE INDEX ix_audit_account ON audit (account_id);\nCREATE INDEX ix_accounts_owner ON accounts (owner);\nCREATE TRIGGER tr_accounts_audit AFTER UPDATE ON accounts BEGIN INSERT INTO audit VALUES (new.id, new.balance); END;\nCREATE VIEW rich AS SELECT owner FROM accounts WHERE balance > 100;\n',
    },
    desired:
      'CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, owner TEXT NOT NULL, balance BIGINT NOT NULL DEFAULT 0, CHECK (balance >= 0));\nCREATE TABLE audit (account_id INTEGER, balance INT);\nCREATE INDEX ix_audit_account ON audit (account_id);\nCREATE INDEX ix_accounts_owner ON accounts (owner);\nCREATE TRIGGER tr_accounts_audit AFTER UPDATE ON accounts BEGIN INSERT INTO audit VALUES (new.id, new.balance); END;\nCREATE VIEW rich AS SELECT owner FROM accounts WHERE balance > 100;\n',
    rows: "INSERT INTO accounts (owner, balance) VALUES ('ada', 500), ('bob', 5), ('eve', 7); DELETE FROM accounts WHERE owner = 'eve';",
    upContains: [/INSERT INTO _dbshift_new_accounts/, /sqlite_sequence/],
    afterUp: [
      ['SELECT id, owner, balance FROM accounts ORDER BY id', [{ id: 1, owner: 'ada', balance: 500 }, { id: 2, owner: 'bob', balance: 5 }]],
      ['SELECT owner FROM rich', [{ owner: 'ada' }]],
      // AUTOINCREMENT never reuses the deleted row's id 3.
      ["INSERT INTO accounts (owner) VALUES ('new') RETURNING id", [{ id: 4 }]],
      ["UPDATE accounts SET balance = 1 WHERE owner = 'bob' RETURNING owner", [{ owner: 'bob' }]],
      ['SELECT account_id, balance FROM audit', [{ account_id: 2, balance: 1 }]],
    ],
    refusedAfterUp: ["UPDATE accounts SET balance = -1 WHERE owner = 'ada'"],
    afterDown: [['SELECT id, owner, balance FROM accounts ORDER BY id', [{ id: 1, owner: 'ada', balance: 500 }, { id: 2, owner: 'bob', balance: 1 }, { id: 4, owner: 'new', balance: 0 }]]],
    docNames: ['accounts'],
  },
  {
    name: 'new-not-null-column-on-rows',
    ported: 'the peers side by side (issue 22): a new NOT NULL column on a table with rows; Alembic test_autogen_diffs add_column nullable=False',
    migrations: { '000001_patients.up.sql': 'CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT);\n' },
    desired: "CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT, status TEXT NOT NULL, country TEXT NOT NULL DEFAULT 'DE');\n",
    rows: "INSERT INTO patients (id, name) VALUES (1, 'a'), (2, 'b');",
    refusedWithout: 'needs-backfill',
    args: ['--backfill', "patients.status='active'"],
    afterUp: [['SELECT id, status, country FROM patients ORDER BY id', [{ id: 1, status: 'active', country: 'DE' }, { id: 2, status: 'active', country: 'DE' }]]],
    refusedAfterUp: ['INSERT INTO patients (id, name) VALUES (3, NULL)'],
    afterDown: [['SELECT id, name FROM patients ORDER BY id', [{ id: 1, name: 'a' }, { id: 2, name: 'b' }]]],
  },
  {
    name: 'add-column-with-default',
    ported: 'Alembic test_autogen_diffs (add_column with server_default); sqldef sqlite3def AddColumn',
    migrations: { '000001_notes.up.sql': 'CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);\n' },
    desired: "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, pinned INTEGER NOT NULL DEFAULT 0, lang TEXT COLLATE NOCASE);\n",
    rows: "INSERT INTO notes (id, body) VALUES (1, 'x');",
    upContains: [/ALTER TABLE notes ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;/],
    upLacks: [/DROP TABLE/],
    afterUp: [['SELECT id, pinned, lang FROM notes', [{ id: 1, pinned: 0, lang: null }]]],
    afterDown: [['SELECT id, body FROM notes', [{ id: 1, body: 'x' }]]],
  },
  {
    name: 'new-indexes-unique-partial-expression',
    ported: 'Alembic test_autogen_indexes (new index, unique, functional index); sqldef sqlite3def partial index',
    migrations: { '000001_visits.up.sql': 'CREATE TABLE visits (id INTEGER PRIMARY KEY, patient TEXT NOT NULL, code TEXT, closed_at TEXT);\nCREATE INDEX ix_old ON visits (patient);\n' },
    desired: 'CREATE TABLE visits (id INTEGER PRIMARY KEY, patient TEXT NOT NULL, code TEXT, closed_at TEXT);\nCREATE UNIQUE INDEX ux_visits_code ON visits (code);\nCREATE INDEX ix_open ON visits (patient) WHERE closed_at IS NULL;\nCREATE INDEX ix_lower ON visits (lower(patient));\n',
    rows: "INSERT INTO visits (patient, code) VALUES ('p1', 'A'), ('p2', 'B');",
    upContains: [/DROP INDEX ix_old/, /CREATE UNIQUE INDEX ux_visits_code/, /WHERE closed_at IS NULL/],
    refusedAfterUp: ["INSERT INTO visits (patient, code) VALUES ('p3', 'A')"],
    afterUp: [["SELECT count(*) AS n FROM visits", [{ n: 2 }]]],
  },
  {
    name: 'new-foreign-key',
    ported: 'the peers side by side (issue 22): a new foreign key; Alembic test_autogen_fks (add_fk with ondelete); migra constraints',
    migrations: { '000001_orders.up.sql': 'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER);\n' },
    desired: 'CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT);\nCREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER, customer_id INTEGER REFERENCES customers (id) ON DELETE SET NULL);\nCREATE INDEX ix_orders_customer_id ON orders (customer_id);\n',
    rows: "INSERT INTO customers VALUES (1, 'c'); INSERT INTO orders (id, total) VALUES (1, 10);",
    upContains: [/ADD COLUMN customer_id INTEGER REFERENCES customers \(id\) ON DELETE SET NULL/],
    afterUp: [["UPDATE orders SET customer_id = 1 RETURNING id", [{ id: 1 }]], ['PRAGMA foreign_key_list(orders)', [{ id: 0, seq: 0, table: 'customers', from: 'customer_id', to: 'id', on_update: 'NO ACTION', on_delete: 'SET NULL', match: 'NONE' }]]],
    afterDown: [['SELECT id, total FROM orders', [{ id: 1, total: 10 }]]],
  },
  {
    name: 'drop-column-and-table',
    ported: 'Alembic test_autogen_diffs (remove_column, remove_table); migra --unsafe',
    migrations: { '000001_init.up.sql': 'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, fax TEXT);\nCREATE INDEX ix_people_fax ON people (fax);\nCREATE TABLE legacy (id INTEGER PRIMARY KEY, blob TEXT);\n' },
    desired: 'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT);\n',
    rows: "INSERT INTO people VALUES (1, 'a', '555'); INSERT INTO legacy VALUES (1, 'old');",
    refusedWithout: 'drop-needs-consent',
    args: ['--allow-drop'],
    docNames: ['people.fax', 'legacy'],
    afterUp: [['SELECT * FROM people', [{ id: 1, name: 'a' }]]],
    afterDown: [['SELECT id, name, fax FROM people', [{ id: 1, name: 'a', fax: null }]], ['SELECT count(*) AS n FROM legacy', [{ n: 0 }]]],
  },
  {
    name: 'rename-table',
    ported: 'sqldef sqlite3def RenameTable (-- @renamed from=...); migra sees drop + create',
    migrations: { '000001_init.up.sql': 'CREATE TABLE docs (id INTEGER PRIMARY KEY, title TEXT);\nCREATE INDEX ix_docs_title ON docs (title);\n' },
    desired: 'CREATE TABLE documents (id INTEGER PRIMARY KEY, title TEXT);\nCREATE INDEX ix_docs_title ON documents (title);\n',
    rows: "INSERT INTO docs VALUES (7, 'seven');",
    refusedWithout: 'possible-rename',
    args: ['--rename-table', 'docs=documents'],
    upLacks: [/DROP TABLE/],
    afterUp: [['SELECT * FROM documents', [{ id: 7, title: 'seven' }]]],
    afterDown: [['SELECT * FROM docs', [{ id: 7, title: 'seven' }]]],
  },
  {
    name: 'generated-column-and-new-table',
    ported: 'Alembic test_autogen_computed (add a Computed column); sqldef sqlite3def generated columns; migra dependencies (new table with a foreign key)',
    migrations: { '000001_init.up.sql': 'CREATE TABLE items (id INTEGER PRIMARY KEY, price INTEGER NOT NULL, qty INTEGER NOT NULL);\n' },
    desired:
      'CREATE TABLE items (id INTEGER PRIMARY KEY, price INTEGER NOT NULL, qty INTEGER NOT NULL, total INTEGER GENERATED ALWAYS AS (price * qty) STORED);\nCREATE TABLE tags (id INTEGER PRIMARY KEY, item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE, tag TEXT NOT NULL);\nCREATE INDEX ix_tags_item_id ON tags (item_id);\n',
    rows: 'INSERT INTO items VALUES (1, 3, 4);',
    afterUp: [['SELECT id, total FROM items', [{ id: 1, total: 12 }]], ["INSERT INTO tags (item_id, tag) VALUES (1, 'x') RETURNING tag", [{ tag: 'x' }]]],
    afterDown: [['SELECT * FROM items', [{ id: 1, price: 3, qty: 4 }]]],
  },
];
