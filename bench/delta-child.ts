// Runs in its own process, bundled as a device runs the agent (plain node): the agent's own
// fetch of one update, by delta from a seed image or in full, each verified against the
// manifest's size and SHA-256; prints the time, the process's peak RSS and the bytes fetched.
import { peakRssMiB, statusKiB } from './process-status.js';
import { fetchUpdate } from '../client/delta/fetch-update.js';

// Stopped by the bench as soon as it printed: exit cleanly, so that a --cpu-prof is written.
process.once('SIGTERM', () => process.exit(0));

const [mode, server, release, artifactUrl, token, size, sha256, indexSha256, indexSize, packSha256, packSize, dataDir, seed] =
  process.argv.slice(2);
const started = process.hrtime.bigint();
// What holds memory at each phase, for whoever looks into the peak (the report keeps the peak).
const memory = () => {
  const { rss, heapTotal, external, arrayBuffers } = process.memoryUsage();
  const mib = (bytes: number) => (bytes / 1048576).toFixed(0);
  // RssFile: the pages of node's own binary and libraries that have been used (code), not data.
  return `[rss ${mib(rss)} (file ${mib(statusKiB('self', 'RssFile') * 1024)}) peak ${mib(peakRssMiB('self') * 1048576)} heap ${mib(heapTotal)} external ${mib(external)} buffers ${mib(arrayBuffers)} MiB]`;
};
const phases: string[] = [`0.00 s ${memory()} start`];
// SLUICE_BENCH_PHASE_MEMORY=1: the memory twice a second too, to see where the peak is reached.
if (process.env.SLUICE_BENCH_PHASE_MEMORY)
  setInterval(() => phases.push(`${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s ${memory()}`), 500).unref();
const { delivery, note } = await fetchUpdate(
  { server, token, dataDir, enabled: mode === 'delta', source: seed || null },
  {
    release,
    artifactUrl,
    size: Number(size),
    sha256,
    ...(indexSha256 ? { chunkIndex: { sha256: indexSha256, size: Number(indexSize) } } : {}),
    ...(packSha256 ? { chunkPack: { sha256: packSha256, size: Number(packSize) } } : {}),
  },
  { log: (line) => phases.push(`${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(2)} s ${memory()} ${line}`) },
);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const usage = process.resourceUsage();
// CPU time too: on a machine shared with other work, wall times swing by 2x between runs.
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
console.log(JSON.stringify({ seconds, cpuSeconds, peakRssMiB: peakRssMiB('self'), ...delivery, note, phases }));
// SLUICE_BENCH_CHILD_EXIT=1: exit at once (a delta run's sockets kept it past the bench's stop, and its --cpu-prof was lost).
if (process.env.SLUICE_BENCH_CHILD_EXIT) process.exit(0);
