#!/usr/bin/env python3
"""The operator guide's way, timed by `npm run bench` (issue 13):

  1. cp the database to a backup, then fsync it;
  2. cp it to the working file;
  3. the original script's approach: each ALTER committed on its own, set-based status
     updates, one UPDATE per report for its identifier (Python's sqlite3, default journal and
     synchronous settings, as the app's script ran);
  4. fsync the result.

Usage: operator-guide.py <database> <backup path> <work path>
No safety around it (no snapshot of a live file, no verification): it is the baseline that
dbshift has to beat, not a tool.
"""
import os
import sqlite3
import subprocess
import sys


def fsync(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def main(source, backup, work):
    subprocess.run(["cp", source, backup], check=True)
    fsync(backup)
    subprocess.run(["cp", source, work], check=True)

    db = sqlite3.connect(work)
    for statement in [
        "ALTER TABLE health_record ADD COLUMN processing_status VARCHAR(20) DEFAULT 'pending'",
        "ALTER TABLE health_record ADD COLUMN processing_completed_at DATETIME",
        "ALTER TABLE health_record ADD COLUMN processing_error_message TEXT",
        "ALTER TABLE report ADD COLUMN unique_identifier VARCHAR(255)",
        "ALTER TABLE report ADD COLUMN generation_status VARCHAR(20) DEFAULT 'pending'",
        "ALTER TABLE report ADD COLUMN generation_started_at DATETIME",
        "ALTER TABLE report ADD COLUMN generation_completed_at DATETIME",
        "ALTER TABLE report ADD COLUMN generation_error_message TEXT",
        """CREATE TABLE task_log (id INTEGER PRIMARY KEY AUTOINCREMENT,
  health_record_id INTEGER NOT NULL REFERENCES health_record (id) ON DELETE CASCADE,
  task_name VARCHAR(100) NOT NULL, task_id VARCHAR(255), status VARCHAR(20) NOT NULL,
  error_message TEXT, error_type VARCHAR(100), retry_count INTEGER DEFAULT 0,
  started_at DATETIME DEFAULT CURRENT_TIMESTAMP, completed_at DATETIME,
  duration_seconds FLOAT, task_metadata TEXT)""",
        "CREATE INDEX ix_task_log_health_record_id ON task_log (health_record_id)",
    ]:
        db.execute(statement)
        db.commit()

    db.execute("UPDATE health_record SET processing_status = 'completed', processing_completed_at = timestamp")
    db.execute("UPDATE report SET generation_status = 'completed', generation_completed_at = created_at")
    db.commit()

    rows = db.execute(
        """SELECT r.id, hr.user_id, r.health_record_id, r.report_template_id, coalesce(r.created_at, hr.timestamp)
           FROM report AS r JOIN health_record AS hr ON hr.id = r.health_record_id"""
    ).fetchall()
    for report_id, user_id, record_id, template_id, created in rows:
        day = str(created or "")[:10].replace("-", "") or "19700101"
        db.execute(
            "UPDATE report SET unique_identifier = ? WHERE id = ?",
            (f"{user_id}-{record_id}-{template_id}-{day}-{report_id}", report_id),
        )
    db.commit()
    db.execute("CREATE UNIQUE INDEX idx_report_unique_identifier ON report (unique_identifier)")
    db.commit()
    db.close()
    fsync(work)


if __name__ == "__main__":
    main(*sys.argv[1:4])
