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
    name: 'rebuild-keeps-rowids',
    ported: "sqlite.org 12-step rebuild (a rowid table without INTEGER PRIMARY KEY: whatever points at a rowid must keep pointing at the same row)",
    migrations: { '000001_codes.up.sql': 'CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT);\n' },
    desired: 'CREATE TABLE codes (code TEXT PRIMARY KEY, label TEXT, slug TEXT UNIQUE);\n',
    rows: "INSERT INTO codes (rowid, code, label) VALUES (10, 'a', 'A'), (20, 'b', 'B');",
    upContains: [/INSERT INTO _dbshift_new_codes \(rowid, code, label\) SELECT rowid, code, label FROM codes;/],
    afterUp: [['SELECT rowid AS r, code, slug FROM codes ORDER BY rowid', [{ r: 10, code: 'a', slug: null }, { r: 20, code: 'b', slug: null }]]],
    refusedAfterUp: ["UPDATE codes SET slug = 'x'"],
    afterDown: [['SELECT rowid AS r, code, label FROM codes ORDER BY rowid', [{ r: 10, code: 'a', label: 'A' }, { r: 20, code: 'b', label: 'B' }]]],
    docNames: ['codes'],
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

export interface PgFixture extends DiffFixture {
  /** Lint rules the generated files may raise, by design (a rename the running app still uses; a type change by --allow-rewrite). */
  lintAllows?: string[];
  /** How many migrations diff writes (the lock-safe phases). */
  migrationCount: number;
  /** Per generated migration: runs without a transaction (CREATE INDEX CONCURRENTLY). */
  noTransaction?: boolean[];
}

export const PG_FIXTURES: PgFixture[] = [
  {
    name: 'rename-column',
    ported: 'the peers side by side (issue 22): users.name -> full_name (migra: drop + add, refused without --unsafe); sqldef psqldef RenameColumn',
    migrations: { '000001_users.up.sql': 'CREATE TABLE users (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text NOT NULL);\n' },
    desired: 'CREATE TABLE users (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, full_name text NOT NULL);\n',
    rows: "INSERT INTO users (name) VALUES ('Ada'), ('Grace');",
    refusedWithout: 'possible-rename',
    args: ['--rename', 'users.name=full_name'],
    migrationCount: 1,
    lintAllows: ['rename-in-use'],
    upContains: [/ALTER TABLE users RENAME COLUMN name TO full_name;/],
    upLacks: [/DROP COLUMN/],
    afterUp: [['SELECT id::int, full_name FROM users ORDER BY id', [{ id: 1, full_name: 'Ada' }, { id: 2, full_name: 'Grace' }]]],
    afterDown: [['SELECT name FROM users ORDER BY id', [{ name: 'Ada' }, { name: 'Grace' }]]],
  },
  {
    name: 'int-to-bigint',
    ported: 'the peers side by side (issue 22): int -> bigint; Alembic test_autogen_diffs compare_type Integer -> BigInteger; squawk changing-column-type',
    migrations: { '000001_counters.up.sql': 'CREATE TABLE counters (id integer PRIMARY KEY, hits integer NOT NULL DEFAULT 0);\nCREATE VIEW busy AS SELECT id FROM counters WHERE hits > 10;\n' },
    // The view uses the column: PostgreSQL refuses the type change until it is dropped (and created again after).
    desired: 'CREATE TABLE counters (id integer PRIMARY KEY, hits bigint NOT NULL DEFAULT 0);\nCREATE VIEW busy AS SELECT id FROM counters WHERE hits > 10;\n',
    rows: 'INSERT INTO counters VALUES (1, 41);',
    refusedWithout: 'rewrites-table',
    args: ['--allow-rewrite'],
    migrationCount: 1,
    lintAllows: ['alter-column-type'],
    upContains: [/ALTER COLUMN hits TYPE bigint USING hits::bigint/],
    afterUp: [["SELECT hits, pg_typeof(hits)::text AS t FROM counters", [{ hits: '41', t: 'bigint' }]]],
    afterDown: [["SELECT hits, pg_typeof(hits)::text AS t FROM counters", [{ hits: 41, t: 'integer' }]]],
  },
  {
    name: 'new-not-null-column-on-rows',
    ported: 'the peers side by side (issue 22): a new NOT NULL column (drizzle and migra emit it without a default: fails on rows); strong_migrations add-column-not-null',
    migrations: { '000001_patients.up.sql': 'CREATE TABLE patients (id bigint PRIMARY KEY, name text);\n' },
    // A volatile default (squawk's adding-field-with-default): added without it, set for new rows, the old rows filled with it.
    desired: "CREATE TABLE patients (id bigint PRIMARY KEY, name text, status text NOT NULL, country text NOT NULL DEFAULT 'DE', ref uuid NOT NULL DEFAULT gen_random_uuid());\n",
    rows: "INSERT INTO patients VALUES (1, 'a'), (2, 'b');",
    refusedWithout: 'needs-backfill',
    args: ['--backfill', "patients.status='active'"],
    migrationCount: 3,
    upContains: [
      /ADD COLUMN country text DEFAULT 'DE'::text NOT NULL;/,
      /UPDATE patients SET status = 'active' WHERE status IS NULL;/,
      /CHECK \(status IS NOT NULL\) NOT VALID/,
      /VALIDATE CONSTRAINT patients_status_not_null;\nALTER TABLE patients ALTER COLUMN status SET NOT NULL;/,
      /ADD COLUMN ref uuid;\nALTER TABLE patients ALTER COLUMN ref SET DEFAULT gen_random_uuid\(\);\nUPDATE patients SET ref = gen_random_uuid\(\) WHERE ref IS NULL;/,
    ],
    afterUp: [
      ['SELECT id::int, status, country FROM patients ORDER BY id', [{ id: 1, status: 'active', country: 'DE' }, { id: 2, status: 'active', country: 'DE' }]],
      ['SELECT count(DISTINCT ref)::int AS n FROM patients', [{ n: 2 }]],
    ],
    refusedAfterUp: ['INSERT INTO patients (id) VALUES (3)'],
    afterDown: [['SELECT id::int, name FROM patients ORDER BY id', [{ id: 1, name: 'a' }, { id: 2, name: 'b' }]]],
  },
  {
    name: 'new-index-and-unique-on-existing-table',
    ported: 'the peers side by side (issue 22): a new index (migra and drizzle emit it without CONCURRENTLY); Alembic test_autogen_indexes (unique, functional, partial); squawk require-concurrent-index-creation',
    migrations: { '000001_visits.up.sql': 'CREATE TABLE visits (id bigint PRIMARY KEY, patient text NOT NULL, code text, closed_at timestamptz);\n' },
    desired:
      'CREATE TABLE visits (id bigint PRIMARY KEY, patient text NOT NULL, code text, closed_at timestamptz, CONSTRAINT visits_code_key UNIQUE (code));\nCREATE INDEX ix_visits_open ON visits (patient) WHERE closed_at IS NULL;\nCREATE INDEX ix_visits_lower ON visits (lower(patient));\n',
    rows: "INSERT INTO visits VALUES (1, 'p1', 'A', NULL), (2, 'p2', 'B', now());",
    migrationCount: 2,
    noTransaction: [true, false],
    upContains: [/CREATE INDEX CONCURRENTLY ix_visits_open ON public.visits USING btree \(patient\) WHERE \(closed_at IS NULL\);/, /CREATE UNIQUE INDEX CONCURRENTLY visits_code_key ON visits \(code\);/, /ADD CONSTRAINT visits_code_key UNIQUE USING INDEX visits_code_key;/],
    refusedAfterUp: ["INSERT INTO visits VALUES (3, 'p3', 'A', NULL)"],
  },
  {
    name: 'new-foreign-key',
    ported: 'the peers side by side (issue 22): a new foreign key (validated at once by migra and drizzle); Alembic test_autogen_fks (ondelete); squawk adding-foreign-key-constraint',
    migrations: { '000001_orders.up.sql': 'CREATE TABLE customers (id bigint PRIMARY KEY, name text);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total int);\n' },
    desired:
      'CREATE TABLE customers (id bigint PRIMARY KEY, name text);\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id) ON DELETE SET NULL, total int);\nCREATE INDEX ix_orders_customer_id ON orders (customer_id);\n',
    rows: "INSERT INTO customers VALUES (1, 'c'); INSERT INTO orders VALUES (1, 1, 10);",
    migrationCount: 3,
    upContains: [/CREATE INDEX CONCURRENTLY ix_orders_customer_id/, /FOREIGN KEY \(customer_id\) REFERENCES customers\(id\) ON DELETE SET NULL NOT VALID;/, /VALIDATE CONSTRAINT orders_customer_id_fkey;/],
    refusedAfterUp: ['INSERT INTO orders VALUES (2, 99, 1)'],
    afterUp: [['DELETE FROM customers WHERE id = 1 RETURNING id::int', [{ id: 1 }]], ['SELECT customer_id FROM orders', [{ customer_id: null }]]],
  },
  {
    name: 'seed-000-create-all-and-everything',
    ported: "seed 000 (procedures tables by create_all); migra's everything fixture (schemas, enums, sequences, extensions, functions, triggers, views); Alembic autogenerate of new tables",
    migrations: {
      '000001_projects.up.sql': "CREATE TYPE run_status AS ENUM ('queued', 'done');\nCREATE TABLE projects (id serial PRIMARY KEY, name varchar NOT NULL, status run_status NOT NULL DEFAULT 'queued');\n",
    },
    desired: `CREATE EXTENSION IF NOT EXISTS pgcrypto;
CREATE SCHEMA reporting;
CREATE TYPE run_status AS ENUM ('queued', 'running', 'done');
CREATE TABLE projects (id serial PRIMARY KEY, name varchar NOT NULL, status run_status NOT NULL DEFAULT 'queued');
CREATE TABLE procedures (
    id SERIAL PRIMARY KEY,
    name VARCHAR NOT NULL,
    version INTEGER NOT NULL,
    code TEXT NOT NULL,
    description VARCHAR,
    is_active BOOLEAN DEFAULT TRUE,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT uq_procedure_name_version UNIQUE (name, version)
);
CREATE INDEX ix_procedures_name ON procedures(name);
CREATE TABLE procedure_executions (
    id SERIAL PRIMARY KEY,
    procedure_id INTEGER NOT NULL REFERENCES procedures(id) ON DELETE CASCADE,
    project_id INTEGER REFERENCES projects(id) ON DELETE SET NULL,
    input_params JSON NOT NULL,
    status VARCHAR NOT NULL,
    token uuid NOT NULL DEFAULT gen_random_uuid(),
    executed_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX ix_procedure_executions_procedure_id ON procedure_executions(procedure_id);
CREATE INDEX ix_procedure_executions_project_id ON procedure_executions(project_id);
CREATE SEQUENCE reporting.report_no START 1000;
CREATE FUNCTION reporting.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.description := coalesce(NEW.description, NEW.name); RETURN NEW; END $$;
CREATE TRIGGER tr_procedures_touch BEFORE INSERT ON procedures FOR EACH ROW EXECUTE FUNCTION reporting.touch();
CREATE VIEW reporting.active_procedures AS SELECT id, name FROM procedures WHERE is_active;
`,
    rows: "INSERT INTO projects (name) VALUES ('p');",
    migrationCount: 1,
    upContains: [/ALTER TYPE run_status ADD VALUE 'running' BEFORE 'done';/, /CREATE TABLE procedures/],
    afterUp: [
      ["INSERT INTO procedures (name, version, code) VALUES ('x', 1, 'c') RETURNING description", [{ description: 'x' }]],
      ['SELECT name FROM reporting.active_procedures', [{ name: 'x' }]],
      ["SELECT nextval('reporting.report_no')::int AS n", [{ n: 1000 }]],
      ["UPDATE projects SET status = 'running' RETURNING name", [{ name: 'p' }]],
      // The down puts the old enum type back: a row holding the new value would stop it (the document says so).
      ["UPDATE projects SET status = 'queued' RETURNING name", [{ name: 'p' }]],
    ],
    refusedAfterUp: ["INSERT INTO procedures (name, version, code) VALUES ('x', 1, 'again')"],
    afterDown: [['SELECT name, status::text FROM projects', [{ name: 'p', status: 'queued' }]]],
  },
  {
    name: 'drop-column-and-table',
    ported: 'Alembic test_autogen_diffs (remove_column, remove_table); migra --unsafe; supabase db diff renames read as drops',
    migrations: { '000001_init.up.sql': 'CREATE TABLE people (id bigint PRIMARY KEY, name text, fax text);\nCREATE TABLE legacy (id bigint PRIMARY KEY, payload text);\n' },
    desired: 'CREATE TABLE people (id bigint PRIMARY KEY, name text);\n',
    rows: "INSERT INTO people VALUES (1, 'a', '555'); INSERT INTO legacy VALUES (1, 'old');",
    refusedWithout: 'drop-needs-consent',
    args: ['--allow-drop'],
    migrationCount: 1,
    docNames: ['people.fax', 'legacy'],
    afterUp: [['SELECT id::int, name FROM people', [{ id: 1, name: 'a' }]]],
    afterDown: [['SELECT fax FROM people', [{ fax: null }]]],
  },
  {
    name: 'check-and-not-null-on-existing-columns',
    ported: 'Alembic test_autogen_diffs (nullable change, check constraints); squawk adding-not-nullable-field and constraint-missing-not-valid',
    migrations: { '000001_init.up.sql': 'CREATE TABLE readings (id bigint PRIMARY KEY, value int, unit text);\n' },
    desired: "CREATE TABLE readings (id bigint PRIMARY KEY, value int CONSTRAINT readings_value_check CHECK (value >= 0), unit text NOT NULL DEFAULT 'mg');\n",
    rows: "INSERT INTO readings VALUES (1, 5, 'g'), (2, 7, NULL);",
    args: ['--backfill', "readings.unit='mg'"],
    migrationCount: 3,
    upContains: [/ADD CONSTRAINT readings_value_check CHECK \(\(value >= 0\)\) NOT VALID;/, /UPDATE readings SET unit = 'mg' WHERE unit IS NULL;/, /SET NOT NULL/],
    afterUp: [['SELECT id::int, unit FROM readings ORDER BY id', [{ id: 1, unit: 'g' }, { id: 2, unit: 'mg' }]]],
    refusedAfterUp: ['INSERT INTO readings VALUES (3, -1, NULL)'],
  },
  {
    name: 'partitions',
    ported: "migra's partitioning fixture (a partitioned table, a new partition, a new partitioned table)",
    migrations: {
      '000001_events.up.sql': "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);\nCREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\n",
    },
    desired:
      "CREATE TABLE events (id bigint NOT NULL, at date NOT NULL, PRIMARY KEY (id, at)) PARTITION BY RANGE (at);\nCREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');\nCREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');\nCREATE TABLE logs (id bigint NOT NULL, kind text NOT NULL) PARTITION BY LIST (kind);\nCREATE TABLE logs_audit PARTITION OF logs FOR VALUES IN ('audit');\n",
    rows: "INSERT INTO events VALUES (1, '2024-05-01');",
    migrationCount: 1,
    upContains: [/CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM \('2025-01-01'\) TO \('2026-01-01'\);/, /PARTITION BY LIST \(kind\);/],
    afterUp: [["INSERT INTO events VALUES (2, '2025-02-01') RETURNING tableoid::regclass::text AS part", [{ part: 'events_2025' }]], ["INSERT INTO logs VALUES (1, 'audit') RETURNING id::int", [{ id: 1 }]]],
    refusedAfterUp: ["INSERT INTO logs VALUES (2, 'other')"],
    afterDown: [['SELECT id::int FROM events ORDER BY id', [{ id: 1 }]]],
  },
];
