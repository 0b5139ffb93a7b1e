// What the v5 migration expects to find and what it adds: plain data, straight from
// docs/spec/health-records-v5.md.

/** The pre-v5 columns the migration reads. Anything else present is carried over untouched. */
export const REQUIRED_COLUMNS: Readonly<Record<string, readonly string[]>> = {
  user: ['id', 'vorname', 'nachname', 'username', 'email', 'password_hash', 'level', 'is_active'],
  report_template: [
    'id', 'template_name', 'output_format', 'example_structure', 'system_prompt', 'prompt', 'summarizer',
    'created_at', 'last_updated', 'use_custom_instructions', 'system_pdf_filename',
  ],
  health_record: [
    'id', 'timestamp', 'text', 'filenames', 'token_count', 'patient_name', 'birth_date', 'medical_history_begin',
    'medical_history_end', 'create_reports', 'expiration_date', 'user_id', 'custom_instructions',
  ],
  report: ['id', 'health_record_id', 'report_template_id', 'content', 'report_type', 'created_at'],
  task_monitor: ['id', 'created_at', 'health_record_id', 'health_record_token_count', 'start_date', 'end_date', 'notification_sent'],
  medical_code: ['id', 'health_record_id', 'code', 'code_type', 'description', 'created_at'],
};

export interface NewColumn {
  table: 'health_record' | 'report';
  name: string;
  definition: string;
}

export const NEW_COLUMNS: readonly NewColumn[] = [
  { table: 'health_record', name: 'processing_status', definition: "VARCHAR(20) DEFAULT 'pending'" },
  { table: 'health_record', name: 'processing_completed_at', definition: 'DATETIME' },
  { table: 'health_record', name: 'processing_error_message', definition: 'TEXT' },
  { table: 'report', name: 'unique_identifier', definition: 'VARCHAR(255)' },
  { table: 'report', name: 'generation_status', definition: "VARCHAR(20) DEFAULT 'pending'" },
  { table: 'report', name: 'generation_started_at', definition: 'DATETIME' },
  { table: 'report', name: 'generation_completed_at', definition: 'DATETIME' },
  { table: 'report', name: 'generation_error_message', definition: 'TEXT' },
];

export const TASK_LOG_TABLE = 'task_log';
export const TASK_LOG_COLUMNS = [
  'id', 'health_record_id', 'task_name', 'task_id', 'status', 'error_message', 'error_type', 'retry_count',
  'started_at', 'completed_at', 'duration_seconds', 'task_metadata',
] as const;
export const CREATE_TASK_LOG = `CREATE TABLE task_log (id INTEGER PRIMARY KEY AUTOINCREMENT,
  health_record_id INTEGER NOT NULL REFERENCES health_record (id) ON DELETE CASCADE,
  task_name VARCHAR(100) NOT NULL, task_id VARCHAR(255), status VARCHAR(20) NOT NULL,
  error_message TEXT, error_type VARCHAR(100), retry_count INTEGER DEFAULT 0,
  started_at DATETIME DEFAULT CURRENT_TIMESTAMP, completed_at DATETIME,
  duration_seconds FLOAT, task_metadata TEXT)`;

export interface NewIndex {
  name: string;
  table: string;
  column: string;
  unique: boolean;
}

export const TASK_LOG_INDEX: NewIndex = { name: 'ix_task_log_health_record_id', table: 'task_log', column: 'health_record_id', unique: false };
export const IDENTIFIER_INDEX: NewIndex = { name: 'idx_report_unique_identifier', table: 'report', column: 'unique_identifier', unique: true };

export function createIndexSql(index: NewIndex): string {
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX ${index.name} ON ${index.table} (${index.column})`;
}

export const PROCESSING_STATUSES = ['pending', 'processing', 'completed', 'failed'] as const;
export const GENERATION_STATUSES = ['pending', 'generating', 'completed', 'failed'] as const;

/** Columns holding sqlalchemy_utils EncryptedType values; SECRET_KEY must open them. */
export const ENCRYPTED_COLUMNS: ReadonlyArray<readonly [table: string, column: string]> = [
  ['health_record', 'text'],
  ['health_record', 'filenames'],
  ['health_record', 'patient_name'],
  ['health_record', 'birth_date'],
  ['health_record', 'custom_instructions'],
  ['report', 'content'],
  ['report_template', 'example_structure'],
  ['report_template', 'system_prompt'],
  ['report_template', 'prompt'],
  ['medical_code', 'code'],
  ['medical_code', 'description'],
];

export const IDENTIFIER_PATTERN = /^\d+-\d+-\d+-\d{8}-\d+$/;
