/** The pre-v5 layout exactly as SQLAlchemy's create_all emits it for SQLite (docs/spec/health-records-v5.md). */
export const PRE_V5_DDL = `
CREATE TABLE user (id INTEGER NOT NULL, vorname VARCHAR(50) NOT NULL, nachname VARCHAR(50) NOT NULL,
  username VARCHAR(50) NOT NULL, email VARCHAR(120) NOT NULL, password_hash VARCHAR(128),
  level VARCHAR(5), is_active BOOLEAN, PRIMARY KEY (id), UNIQUE (username), UNIQUE (email));
CREATE TABLE report_template (id INTEGER NOT NULL, template_name VARCHAR(100) NOT NULL,
  output_format VARCHAR(4) NOT NULL, example_structure BLOB, system_prompt BLOB, prompt BLOB,
  summarizer BOOLEAN, created_at DATETIME, last_updated DATETIME, use_custom_instructions BOOLEAN,
  system_pdf_filename VARCHAR(255), PRIMARY KEY (id));
CREATE TABLE health_record (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, timestamp DATETIME,
  text BLOB, filenames BLOB, token_count INTEGER, patient_name BLOB, birth_date BLOB,
  medical_history_begin DATETIME, medical_history_end DATETIME, create_reports BOOLEAN,
  expiration_date DATETIME, user_id INTEGER NOT NULL, custom_instructions BLOB,
  FOREIGN KEY(user_id) REFERENCES user (id));
CREATE TABLE report (id INTEGER NOT NULL, health_record_id INTEGER NOT NULL,
  report_template_id INTEGER NOT NULL, content BLOB, report_type VARCHAR(50), created_at DATETIME,
  PRIMARY KEY (id), FOREIGN KEY(health_record_id) REFERENCES health_record (id),
  FOREIGN KEY(report_template_id) REFERENCES report_template (id));
CREATE TABLE task_monitor (id INTEGER NOT NULL, created_at DATETIME, health_record_id INTEGER NOT NULL,
  health_record_token_count INTEGER, start_date DATETIME, end_date DATETIME, notification_sent BOOLEAN,
  PRIMARY KEY (id), FOREIGN KEY(health_record_id) REFERENCES health_record (id));
CREATE TABLE medical_code (id INTEGER NOT NULL, health_record_id INTEGER NOT NULL, code BLOB,
  code_type VARCHAR(5) NOT NULL, description BLOB, created_at DATETIME, PRIMARY KEY (id),
  FOREIGN KEY(health_record_id) REFERENCES health_record (id));
`;
