// Runs in its own process, bundled as a device runs the agent (plain node): the agent's own
// fetch of one update, by delta from a seed image or in full, each verified against the
// manifest's size and SHA-256; prints the time, the process's peak RSS and the bytes fetched.
import { fetchUpdate } from '../client/delta/fetch-update.js';

// Stopped by the bench as soon as it printed: exit cleanly, so that a --cpu-prof is written.
process.once('SIGTERM', () => process.exit(0));

const [mode, server, release, artifactUrl, token, size, sha256, indexSha256, indexSize, dataDir, seed] = process.argv.slice(2);
const started = process.hrtime.bigint();
const phases: string[] = [];
const { delivery, note } = await fetchUpdate(
  { server, token, dataDir, enabled: mode === 'delta', source: seed || null },
  {
    release,
    artifactUrl,
    size: Number(size),
    sha256,
    ...(indexSha256 ? { chunkIndex: { sha256: indexSha256, size: Number(indexSize) } } : {}),
  },
  { log: (line) => phases.push(`${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s ${line}`) },
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const usage = process.resourceUsage();
// CPU time too: on a machine shared with other work, wall times swing by 2x between runs.
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
console.log(JSON.stringify({ seconds, cpuSeconds, peakRssMiB: usage.maxRSS / 1024, ...delivery, note, phases }));
