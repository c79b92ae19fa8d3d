// Runs in its own process: the agent's download (hashing while the bytes arrive, verifying
// size and digest) of one artifact, then prints the time and the process's own peak RSS.
import { download } from '../client/download.js';
import { peakRssMiB } from './process-status.js';

const [url, token, size, sha256, path] = process.argv.slice(2);
const started = process.hrtime.bigint();
await download({ url, token, size: Number(size), sha256, path });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ seconds, peakRssMiB: peakRssMiB('self') }));
