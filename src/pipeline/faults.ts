// Test-only fault injection: DBSHIFT_FAULT=crash@<point> makes the process kill itself with
// SIGKILL when it reaches <point>, so tests can prove what a crash at that moment leaves
// behind. Config only passes the variable through when NODE_ENV=test.

export function hitFaultPoint(fault: string | undefined, point: string): void {
  if (!fault) return;
  const [action, where] = fault.split('@');
  if (where !== point) return;
  if (action === 'crash') process.kill(process.pid, 'SIGKILL');
}
