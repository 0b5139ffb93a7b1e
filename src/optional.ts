import { isMissingPackage, missingPeer, type OptionalPeer } from './errors.js';

// Optional peer dependencies: packages most installs never need, so the package does not
// carry them (TypeScript, 23 MB, only reads code migrations; PGlite, 27 MB, only runs
// PostgreSQL's lint replay and diff without a server). Each is imported where it is used, at
// the moment it is used; when it is missing, the operator gets the install command, not a
// module-resolution stack (errors.ts: missingPeer).

/** Import an optional peer, or fail with the install command. */
export async function importOptional<T>(name: OptionalPeer, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    throw isMissingPackage(error, name) ? missingPeer(name, error) : error;
  }
}
