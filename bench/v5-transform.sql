-- The floor for `npm run bench`: the v5 transform as an operator would hand-write it for the
-- sqlite3 CLI, in one transaction, with no safety around it (no snapshot, no backup, no
-- verification; journal_mode=OFF). Timestamps are normalised with SQLite's own date functions,
-- which is close to, but looser than, the spec's rules (dbshift implements those exactly).
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA foreign_keys = OFF;
BEGIN;
ALTER TABLE health_record ADD COLUMN processing_status VARCHAR(20) DEFAULT 'pending';
ALTER TABLE health_record ADD COLUMN processing_completed_at DATETIME;
ALTER TABLE health_record ADD COLUMN processing_error_message TEXT;
ALTER TABLE report ADD COLUMN unique_identifier VARCHAR(255);
ALTER TABLE report ADD COLUMN generation_status VARCHAR(20) DEFAULT 'pending';
ALTER TABLE report ADD COLUMN generation_started_at DATETIME;
ALTER TABLE report ADD COLUMN generation_completed_at DATETIME;
ALTER TABLE report ADD COLUMN generation_error_message TEXT;
CREATE TABLE task_log (id INTEGER PRIMARY KEY AUTOINCREMENT,
  health_record_id INTEGER NOT NULL REFERENCES health_record (id) ON DELETE CASCADE,
  task_name VARCHAR(100) NOT NULL, task_id VARCHAR(255), status VARCHAR(20) NOT NULL,
  error_message TEXT, error_type VARCHAR(100), retry_count INTEGER DEFAULT 0,
  started_at DATETIME DEFAULT CURRENT_TIMESTAMP, completed_at DATETIME,
  duration_seconds FLOAT, task_metadata TEXT);
CREATE INDEX ix_task_log_health_record_id ON task_log (health_record_id);

UPDATE health_record SET
  processing_status = 'completed',
  processing_completed_at = CASE
    WHEN typeof(timestamp) IN ('integer', 'real') THEN strftime('%Y-%m-%d %H:%M:%f', CASE WHEN abs(timestamp) > 1e11 THEN timestamp / 1000.0 ELSE timestamp END, 'unixepoch') || '000'
    WHEN timestamp GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]' THEN timestamp
    ELSE strftime('%Y-%m-%d %H:%M:%f', timestamp) || '000' END;

UPDATE report SET
  generation_status = 'completed',
  generation_completed_at = n.created,
  unique_identifier = n.user_id || '-' || report.health_record_id || '-' || report.report_template_id || '-' ||
    coalesce(strftime('%Y%m%d', n.created), strftime('%Y%m%d', n.record_ts), strftime('%Y%m%d', 'now')) || '-' || report.id
FROM (
  SELECT r.id AS rid, hr.user_id AS user_id, hr.processing_completed_at AS record_ts,
    CASE
      WHEN typeof(r.created_at) IN ('integer', 'real') THEN strftime('%Y-%m-%d %H:%M:%f', CASE WHEN abs(r.created_at) > 1e11 THEN r.created_at / 1000.0 ELSE r.created_at END, 'unixepoch') || '000'
      WHEN r.created_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]' THEN r.created_at
      ELSE strftime('%Y-%m-%d %H:%M:%f', r.created_at) || '000' END AS created
  FROM report AS r JOIN health_record AS hr ON hr.id = r.health_record_id
) AS n
WHERE n.rid = report.id;
UPDATE report SET generation_status = 'completed' WHERE generation_status = 'pending';

CREATE UNIQUE INDEX idx_report_unique_identifier ON report (unique_identifier);
COMMIT;
