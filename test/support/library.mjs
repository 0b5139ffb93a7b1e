// Calls one function of the built library (dist/index.js, what `import … from 'dbshift'`
// gives an app) in a process of its own, and prints {result, events} as JSON.
//   node library.mjs <function> '<options as JSON>' [abort-after-ms]
// A code migration can abort the call it runs in with globalThis.abortDbshiftCall().
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dbshift = await import(pathToFileURL(path.join(root, 'dist/index.js')).href);
const [name, json, abortAfter] = process.argv.slice(2);
const controller = new AbortController();
globalThis.abortDbshiftCall = () => controller.abort();
if (abortAfter !== undefined) setTimeout(() => controller.abort(), Number(abortAfter));
const events = [];
const result = await dbshift[name]({ ...JSON.parse(json), signal: controller.signal, onProgress: (event) => events.push(event) });
process.stdout.write(JSON.stringify({ result, events }));
