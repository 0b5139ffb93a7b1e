/** Placeholder until the golang-migrate aliases land. */
export function normalizeArgv(argv: string[]): string[] {
  return argv;
}
