import type { Ora } from 'ora';
import type { ProgressEvent } from '../progress.js';

/** A pipeline step's event, the engine's, or another long command's (sample): one shape. */
type ShownEvent = ProgressEvent;

export interface Progress {
  listener: (event: ShownEvent) => void;
  stop(): void;
}

const PLAIN_PROGRESS_MS = 5_000;

const number = (n: number) => n.toLocaleString('en-US');
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

function describeProgress(event: ShownEvent): string {
  if (event.done === undefined || event.total === undefined) return '';
  const amount = event.unit === 'bytes' ? `${mib(event.done)} / ${mib(event.total)}` : `${number(event.done)} / ${number(event.total)} ${event.unit ?? ''}`;
  const percent = event.total > 0 ? ` (${Math.floor((event.done / event.total) * 100)}%)` : '';
  return `${amount}${percent}${event.label ? ` · ${event.label}` : ''}`;
}

function describeEnd(result: NonNullable<ShownEvent['result']>): string {
  return `${result.name} ${result.status} in ${result.ms} ms${result.detail && result.status !== 'failed' ? ` · ${result.detail}` : ''}`;
}

/**
 * Progress goes to stderr so stdout stays for the summary or the JSON object. On a TTY, one
 * spinner line per step with live detail; elsewhere (log files, CI), one plain line per step.
 * With --json nothing is drawn at all. The spinner's package (ora and its dozen modules) loads
 * only for a terminal: a command run by a script, a CI job or a benchmark never pays for it.
 */
export async function createProgress(mode: 'tty' | 'plain' | 'silent', stream: NodeJS.WriteStream = process.stderr, colour = false): Promise<Progress> {
  if (mode === 'silent') return { listener: () => {}, stop: () => {} };
  if (mode === 'plain') {
    // A log gets one line per step, and a line on how far a long step is every few seconds.
    let lastLine = Date.now();
    return {
      listener(event) {
        if (event.phase === 'start') lastLine = Date.now();
        if (event.phase === 'progress' && Date.now() - lastLine >= PLAIN_PROGRESS_MS && describeProgress(event)) {
          lastLine = Date.now();
          stream.write(`[dbshift] ${event.step}… ${describeProgress(event)}\n`);
        }
        if (event.phase === 'end' && event.result) stream.write(`[dbshift] ${describeEnd(event.result)}\n`);
      },
      stop() {},
    };
  }
  const { default: ora } = await import('ora');
  let spinner: Ora | undefined;
  let lastDraw = 0;
  return {
    listener(event) {
      if (event.phase === 'start') {
        // discardStdin: false keeps the terminal cooked, so Ctrl-C stays a real SIGINT from the
        // kernel even while a synchronous SQLite call holds the event loop (issue 14.1: ora's raw
        // mode turned it into a byte nobody read). No hidden cursor: a second Ctrl-C ends the
        // process at once and must not leave the operator's terminal without one.
        spinner = ora({ text: `${event.step}…`, stream, discardStdin: false, hideCursor: false, color: colour ? 'cyan' : false }).start();
      } else if (event.phase === 'progress' && spinner) {
        const now = Date.now();
        if (now - lastDraw < 100) return;
        lastDraw = now;
        spinner.text = `${event.step}… ${describeProgress(event)}`;
      } else if (event.phase === 'end' && spinner && event.result) {
        const text = describeEnd(event.result);
        if (event.result.status === 'ok') spinner.succeed(text);
        else if (event.result.status === 'failed') spinner.fail(text);
        else spinner.info(text);
        spinner = undefined;
      }
    },
    stop() {
      spinner?.stop();
    },
  };
}
