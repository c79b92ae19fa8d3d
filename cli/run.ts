// Runs the `sluice` CLI with this process's arguments: the entry of bin/sluice.js (through the
// tsx loader) and of the built server (`npm run build` → dist/server/sluice.mjs).
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
