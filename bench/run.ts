// `npm run bench`: every measurement against a baseline measured in the same run, on the same
// machine, printed as ratios. Traffic stays on 127.0.0.1; every load run stops by itself.
// Sizes: BENCH_MIB (artifact, default 512), BENCH_SECONDS (each load run, default 10),
// BENCH_DEVICES_LARGE (default 100000), BENCH_FLEET (simulated devices, default 10000).
// BENCH_ONLY=checkin|transfer|fleet|postgres-checkin|postgres-fleet|s3 runs one group
// (comma-separated for several; `postgres` names both PostgreSQL groups). The PostgreSQL rows
// (bench/postgres-rows.ts, their own knobs there) need a server at BENCH_POSTGRES_URL (default
// postgres://sluice:sluice@127.0.0.1:5432/sluice, a role allowed to CREATE DATABASE); without
// one they are left out, as the nginx rows are without nginx.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkinRate, bareFastifyRate } from './checkin.js';
import { makeArtifact, timeCommand, publish, ingest, downloadThroughput, startNodePipe, startNginx, agentDownload } from './transfer.js';
import { root, startSluice, sluiceScript, buildSluice } from './processes.js';
import { fleetRun } from './fleet.js';
import { postgresCheckinRows, postgresFleetRows } from './postgres-rows.js';
import { postgresUnavailable } from './postgres.js';
import { s3Rows } from './s3-rows.js';
import { objectStoreUnavailable } from '../test/helpers/object-store.js';

const mebibytes = Number(process.env.BENCH_MIB ?? 512);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const largeFleet = Number(process.env.BENCH_DEVICES_LARGE ?? 100_000);
const fleetSize = Number(process.env.BENCH_FLEET ?? 10_000);
const rows: { measurement: string; value: string; baseline: string; ratio: number; target: string }[] = [];
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ratio = (value: number, baseline: number) => Math.round((value / baseline) * 100) / 100;
const tableHead = ['| measurement | sluice | baseline (same run) | ratio | target |', '| --- | --- | --- | --- | --- |'];
const formatRow = (row: (typeof rows)[number]) => `| ${row.measurement} | ${row.value} | ${row.baseline} | ${row.ratio} | ${row.target} |`;
// Each result is printed as soon as it is measured, so a later failure loses nothing.
const record = (row: (typeof rows)[number]) => {
  rows.push(row);
  process.stderr.write(`bench: ${formatRow(row)}\n`);
};
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
const only = process.env.BENCH_ONLY?.split(',');
type Group = 'checkin' | 'transfer' | 'fleet' | 'postgres-checkin' | 'postgres-fleet' | 's3';
const wanted = (group: Group) => !only || only.includes(group) || (group.startsWith('postgres-') && only.includes('postgres'));
const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main() {
  log(
    `machine: ${execFileSync('nproc').toString().trim()} cores, node ${process.version}; artifact ${mebibytes} MiB; load runs ${seconds} s; load average ${loadAverage()}`,
  );
  log('building the server as production runs it (npm run build)');
  await buildSluice();

  if (wanted('checkin')) await checkinRows();
  if (wanted('transfer')) await transferRows();
  if (wanted('fleet') && fleetSize > 0) await fleetRows();
  if (wanted('postgres-checkin') || wanted('postgres-fleet')) {
    const unavailable = await postgresUnavailable();
    if (unavailable) log(`${unavailable}: the PostgreSQL rows are left out`);
    if (!unavailable && wanted('postgres-checkin')) await postgresCheckinRows(record, log, seconds);
    if (!unavailable && wanted('postgres-fleet')) await postgresFleetRows(record, log);
  }
  // The S3 rows need moto's server (bench/s3-rows.ts); without it they are left out.
  if (wanted('s3')) {
    if (objectStoreUnavailable()) log(`${objectStoreUnavailable()}: the S3 rows are left out`);
    else await s3Rows(record, log, mebibytes);
  }
  // The machine is shared: how busy it was is part of the result.
  log(`load average at the end ${loadAverage()}`);

  const table = [...tableHead, ...rows.map(formatRow)].join('\n');
  process.stdout.write(`${table}\n`);
  writeFileSync(join(root, 'bench', 'last-run.md'), `${table}\n`);
}

async function checkinRows() {
  log('check-ins with 1,000 devices');
  const small = await checkinRate(1000, seconds);
  log('bare fastify baseline');
  const bare = await bareFastifyRate(small.answer, seconds);
  record({
    measurement: 'check-ins/s (signed, DB read + write), 50 connections',
    value: `${small.perSecond.toFixed(0)}/s (p99 ${small.latencyP99} ms, ${small.errors} errors)`,
    baseline: `bare fastify ${bare.perSecond.toFixed(0)}/s`,
    ratio: ratio(small.perSecond, bare.perSecond),
    target: '≥ 0.5',
  });
  log(`check-ins with ${largeFleet} devices`);
  const large = await checkinRate(largeFleet, seconds);
  record({
    measurement: `check-in cost, ${largeFleet} vs 1,000 devices`,
    value: `${large.perSecond.toFixed(0)}/s`,
    baseline: `${small.perSecond.toFixed(0)}/s at 1,000`,
    ratio: ratio(small.perSecond, large.perSecond),
    target: '≤ 1.2 (cost ratio)',
  });
}

async function transferRows() {
  const work = mkdtempSync(join(tmpdir(), 'sluice-bench-transfer-'));
  try {
    const artifact = join(work, 'files', 'image.bin');
    execFileSync('mkdir', ['-p', join(work, 'files')]);
    await makeArtifact(artifact, mebibytes);
    const size = mebibytes * 1024 * 1024;
    log('hashing baselines');
    const sha256sum = timeCommand('sha256sum', [artifact]);
    const openssl = timeCommand('openssl', ['dgst', '-sha256', artifact]);

    const dataDir = join(work, 'data');
    const server = await startSluice(dataDir);
    const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
    const api = (path: string, body: unknown) =>
      fetch(`${server.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).then((response) => response.json() as Promise<Record<string, string>>);
    await api('/api/v1/products', { id: 'emu', name: 'EMU' });
    const releaseToken = (await api('/api/v1/users', { username: 'bench-release', role: 'release' })).token;
    const manifest = join(work, 'manifest.json');
    execFileSync(process.execPath, [
      sluiceScript,
      'release',
      'sign',
      artifact,
      '--key',
      join(dataDir, 'keys', 'release.key'),
      '--product',
      'emu',
      '--version',
      '2.0.0',
      '--hardware',
      'emu-hw-1',
      '--out',
      manifest,
    ]);
    log('upload ingest');
    const upload = publish(server.url, server.child.pid!, artifact, manifest, releaseToken);
    record({
      measurement: `release upload ingest, ${mebibytes} MiB (stream, hash, verify, store)`,
      value: `${upload.seconds.toFixed(2)} s, server peak RSS ${upload.serverPeakRssMiB.toFixed(0)} MiB`,
      baseline: `sha256sum ${sha256sum.toFixed(2)} s (openssl ${openssl.toFixed(2)} s)`,
      ratio: ratio(sha256sum, upload.seconds),
      target: '≥ 1.0, RSS < 150 MiB',
    });
    // The same upload without the CLI's start-up, and what writing the bytes durably costs
    // on this disk (the server fsyncs before it answers 201; sha256sum only reads).
    const secondManifest = join(work, 'manifest-2.json');
    execFileSync(process.execPath, [
      sluiceScript,
      'release',
      'sign',
      artifact,
      '--key',
      join(dataDir, 'keys', 'release.key'),
      '--product',
      'emu',
      '--version',
      '2.0.1',
      '--hardware',
      'emu-hw-1',
      '--out',
      secondManifest,
    ]);
    const diskWrite = timeCommand('dd', [`if=${artifact}`, `of=${join(work, 'dd.bin')}`, 'bs=1M', 'conv=fsync']);
    rmSync(join(work, 'dd.bin'), { force: true });
    const served = await ingest(server.url, server.child.pid!, artifact, secondManifest, releaseToken);
    record({
      measurement: `release upload ingest, ${mebibytes} MiB, streamed from the benchmark process (no CLI start-up)`,
      value: `${served.seconds.toFixed(2)} s, server peak RSS ${served.serverPeakRssMiB.toFixed(0)} MiB`,
      baseline: `sha256sum ${sha256sum.toFixed(2)} s (dd with fsync ${diskWrite.toFixed(2)} s)`,
      ratio: ratio(sha256sum, served.seconds),
      target: '≥ 1.0, RSS < 150 MiB',
    });
    // The memory limit is for a 1 GiB upload: the same ingest at twice the size shows
    // that the peak does not grow with the artifact.
    const large = join(work, 'large.bin');
    await makeArtifact(large, 1024);
    const largeManifest = join(work, 'manifest-large.json');
    execFileSync(process.execPath, [
      sluiceScript,
      'release',
      'sign',
      large,
      '--key',
      join(dataDir, 'keys', 'release.key'),
      '--product',
      'emu',
      '--version',
      '2.0.2',
      '--hardware',
      'emu-hw-1',
      '--out',
      largeManifest,
    ]);
    const largeSha256sum = timeCommand('sha256sum', [large]);
    const largeUpload = await ingest(server.url, server.child.pid!, large, largeManifest, releaseToken);
    rmSync(large, { force: true });
    record({
      measurement: 'release upload ingest, 1 GiB, streamed from the benchmark process',
      value: `${largeUpload.seconds.toFixed(2)} s, server peak RSS ${largeUpload.serverPeakRssMiB.toFixed(0)} MiB`,
      baseline: `sha256sum ${largeSha256sum.toFixed(2)} s`,
      ratio: ratio(largeSha256sum, largeUpload.seconds),
      target: '≥ 1.0, RSS < 150 MiB',
    });
    const release = JSON.parse(
      execFileSync('curl', ['-s', '-H', `Authorization: Bearer ${admin}`, `${server.url}/api/v1/releases`]).toString(),
    ).find((listed: { version: string }) => listed.version === '2.0.0');
    const sluiceUrl = `${server.url}/api/v1/releases/${release.id}/artifact`;

    const pipe = await startNodePipe(artifact);
    // The documented nginx front: a sluice that authorizes and answers with X-Accel-Redirect.
    const accel = await startSluice(dataDir, ['--x-accel-prefix', '/protected']);
    const nginx = existsSync('/usr/sbin/nginx')
      ? await startNginx(join(work, 'nginx'), join(work, 'files'), join(dataDir, 'artifacts'), accel.url)
      : null;
    for (const clients of [1, 20]) {
      log(`downloads, ${clients} client(s)`);
      // Three alternating rounds, medians reported (single runs swung by half on this machine).
      const rounds: { pipe: number; sluice: number; nginx: number; accel: number }[] = [];
      for (let round = 0; round < 3; round++) {
        rounds.push({
          pipe: await downloadThroughput(pipe.url, clients, size),
          sluice: await downloadThroughput(sluiceUrl, clients, size, admin),
          nginx: nginx ? await downloadThroughput(`${nginx.url}/file/image.bin`, clients, size) : 0,
          accel: nginx ? await downloadThroughput(`${nginx.url}/api/v1/releases/${release.id}/artifact`, clients, size, admin) : 0,
        });
      }
      const [pipeRate, sluiceRate, nginxRate, accelRate] = (['pipe', 'sluice', 'nginx', 'accel'] as const).map((key) =>
        median(rounds.map((round) => round[key])),
      );
      record({
        measurement: `download, ${clients} client(s), sluice streaming (median of 3)`,
        value: `${sluiceRate.toFixed(0)} MiB/s`,
        baseline: `node:http pipe ${pipeRate.toFixed(0)} MiB/s`,
        ratio: ratio(sluiceRate, pipeRate),
        target: '≥ 0.9',
      });
      if (nginx) {
        record({
          measurement: `download, ${clients} client(s), nginx sendfile (reference)`,
          value: `${nginxRate.toFixed(0)} MiB/s`,
          baseline: `node:http pipe ${pipeRate.toFixed(0)} MiB/s`,
          ratio: ratio(nginxRate, pipeRate),
          target: '—',
        });
        record({
          measurement: `download, ${clients} client(s), nginx front (sluice authorizes, X-Accel-Redirect)`,
          value: `${accelRate.toFixed(0)} MiB/s`,
          baseline: `nginx sendfile ${nginxRate.toFixed(0)} MiB/s`,
          ratio: ratio(accelRate, nginxRate),
          target: '≥ 0.9',
        });
      }
    }
    await pipe.stop();
    await nginx?.stop();
    await accel.stop();

    log('agent download + verification');
    // Three alternating runs each, medians reported: one run of a second or two swung by half
    // on this shared machine. The RSS is the highest of the three.
    const agentRuns: { seconds: number; peakRssMiB: number }[] = [];
    const curlRuns: number[] = [];
    for (let run = 0; run < 3; run++) {
      agentRuns.push(await agentDownload(work, sluiceUrl, admin, size, release.sha256));
      curlRuns.push(
        timeCommand('curl', ['-s', '-H', `Authorization: Bearer ${admin}`, '-o', join(work, 'curl.bin'), sluiceUrl]) +
          timeCommand('sha256sum', [join(work, 'curl.bin')]),
      );
      rmSync(join(work, 'curl.bin'), { force: true });
    }
    const agentSeconds = median(agentRuns.map((run) => run.seconds));
    const curl = median(curlRuns);
    const agentPeak = Math.max(...agentRuns.map((run) => run.peakRssMiB));
    record({
      measurement: `agent download + verification, ${mebibytes} MiB (median of 3)`,
      value: `${agentSeconds.toFixed(2)} s, agent peak RSS ${agentPeak.toFixed(0)} MiB`,
      baseline: `curl then sha256sum ${curl.toFixed(2)} s`,
      ratio: ratio(curl, agentSeconds),
      target: '≥ 1.5, RSS < 80 MiB',
    });
    await server.stop();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function fleetRows() {
  log(`fleet: sluice simulate --devices ${fleetSize}`);
  const fleet = await fleetRun(fleetSize);
  record({
    measurement: `fleet: simulate ${fleetSize} devices through one window`,
    value: `${fleet.committed}/${fleetSize} committed in ${fleet.seconds.toFixed(0)} s, ${fleet.events} reports (${fleet.expectedEvents} expected)`,
    baseline: `server CPU ${fleet.serverCpuSeconds.toFixed(0)} s, peak RSS ${fleet.serverPeakRssMiB.toFixed(0)} MiB`,
    ratio: fleet.committed / fleetSize,
    target: 'all committed, none lost',
  });
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`bench failed: ${error.stack ?? error}\n`);
    process.exit(1);
  },
);
