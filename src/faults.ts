import fs from 'node:fs';

// Test-only fault injection, honoured only when NODE_ENV=test (Config passes DBSHIFT_FAULT
// through only then). DBSHIFT_FAULT=<action>@<point>:
//   crash@<point>  SIGKILL itself at <point>: proves what a crash there leaves behind.
//   pause@<point>  SIGSTOP itself at <point>: the test acts (e.g. writes the source), then SIGCONT.
//   hold@<point>@<file>  block the event loop at <point>, as a long synchronous SQLite call does,
//                  after writing <file>.held, until <file> exists (a test at a terminal types meanwhile).
// Points are named where the pipeline calls ctx.checkpoint(): before-<step> and after-<step>
// for every step, and inside long work. docs/reliability.md lists them all.

let fired = false;

/** Fires once: the first time the run reaches the named point. */
export function hitFaultPoint(fault: string | undefined, point: string): void {
  if (!fault || fired) return;
  const [action, where, file] = fault.split('@');
  if (where !== point) return;
  fired = true;
  if (action === 'crash') process.kill(process.pid, 'SIGKILL');
  if (action === 'pause') process.kill(process.pid, 'SIGSTOP');
  if (action === 'hold' && file) {
    fs.writeFileSync(`${file}.held`, '');
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    while (!fs.existsSync(file)) Atomics.wait(sleeper, 0, 0, 20);
  }
}
