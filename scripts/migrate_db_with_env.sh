#!/usr/bin/env bash
# Maintenance-window wrapper (the operator guide's name): loads settings, checks the basics,
# builds dbshift if needed and runs `dbshift migrate "$@"`, returning its exit code.
#
#   ENV_FILE=/etc/healthsum/migrate.env ./scripts/migrate_db_with_env.sh --strict
#
# Settings come from the environment and from .env in the current directory (or the file
# named by ENV_FILE); dbshift itself reads that file, so values are never evaluated as shell.
# Relative paths (INSTANCE_DIR, BACKUP_DIR, SOURCE_DB) are relative to the current directory.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

fail() {
  echo "migrate_db_with_env.sh: $1" >&2
  exit "${2:-78}"
}

env_file="${ENV_FILE:-.env}"
if [[ -n "${ENV_FILE:-}" && ! -f "$ENV_FILE" ]]; then
  fail "ENV_FILE=$ENV_FILE does not exist." 78
fi
if [[ -f "$env_file" ]]; then
  ENV_FILE="$(cd "$(dirname "$env_file")" && pwd)/$(basename "$env_file")"
  export ENV_FILE
fi

command -v node >/dev/null 2>&1 || fail "Node.js is not installed (dbshift needs Node 20 or newer)." 78
node_major="$(node -p 'process.versions.node.split(".")[0]')"
(( node_major >= 20 )) || fail "Node.js $(node --version) is too old; dbshift needs Node 20 or newer." 78

# SECRET_KEY must come from the environment or the env file; its value is never printed.
if [[ -z "${SECRET_KEY:-}" ]]; then
  if [[ ! -f "$env_file" ]] || ! grep -Eq '^[[:space:]]*(export[[:space:]]+)?SECRET_KEY[[:space:]]*=[[:space:]]*[^[:space:]#]' "$env_file"; then
    fail "SECRET_KEY is not set. Export it or put SECRET_KEY=... in $env_file (use the production key)." 78
  fi
fi

# In a clone the dependencies are in $root/node_modules; in an installed package, beside it.
if ! (cd "$root" && node -e "require.resolve('better-sqlite3')" >/dev/null 2>&1); then
  fail "dependencies are missing: run 'npm ci' in $root first." 78
fi
# A clone builds itself when its sources changed; an installed package ships dist/ only.
if [[ -d "$root/src" ]] && { [[ ! -f "$root/dist/cli/main.js" ]] || [[ -n "$(find "$root/src" -newer "$root/dist/cli/main.js" -name '*.ts' -print -quit)" ]]; }; then
  echo "migrate_db_with_env.sh: building dbshift…" >&2
  npm run --silent --prefix "$root" build >&2
fi

exec node "$root/dist/cli/main.js" migrate "$@"
