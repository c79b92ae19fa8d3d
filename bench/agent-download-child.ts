// Runs in its own process: the agent's download (hashing while the bytes arrive, verifying
// size and digest) of one artifact, then prints the time and the process's peak RSS.
import { download } from '../client/download.js';

const [url, token, size, sha256, path] = process.argv.slice(2);
const started = process.hrtime.bigint();
await download({ url, token, size: Number(size), sha256, path });
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({ seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
