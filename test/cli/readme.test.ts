// The README's shell blocks, run as a new user runs them: in order, in one bash session, in a
// directory laid out like a fresh clone (its `npx sluice` is this checkout's CLI), against a
// real server on a fresh data directory. A block meant for another machine says so in an
// HTML comment just above it, with the reason; every other `sh` block runs. The only change
// made to the text is the server's address: README says 127.0.0.1:8080, the test's server
// listens on a free port. With SLUICE_TEST_DATABASE=postgres the server runs on an empty
// PostgreSQL database, which it migrates as it starts.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sluiceBin, sourceBin, startServerProcess } from '../helpers/processes.js';
import { describeHang, hangReportArguments } from '../helpers/hang-report.js';
import { postgresTestDatabase, postgresUnavailable, testDialect } from '../helpers/database.js';

const repository = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const skipMarker = /^<!-- not run by test\/cli\/readme\.test\.ts: (.+) -->$/;

interface Block {
  firstLine: string;
  text: string;
  skipped: string | null;
  /** The `## ` heading the block sits under. */
  section: string;
}

/** The README's ```sh blocks in order, each with the reason it is left out, if it is. */
export function shellBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  let section = '';
  for (let index = 0; index < lines.length; index++) {
    if (lines[index].startsWith('## ')) section = lines[index].slice(3);
    if (lines[index] !== '```sh') continue;
    const end = lines.indexOf('```', index + 1);
    const body = lines.slice(index + 1, end);
    const skipped = skipMarker.exec(lines[index - 1] ?? '')?.[1] ?? null;
    blocks.push({ firstLine: body[0], text: body.join('\n'), skipped, section });
    index = end;
  }
  return blocks;
}

function runBash(
  script: string,
  cwd: string,
  timeoutMs: number,
  hang: { reports: string; server: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    // A group of its own, so that a timeout kills every command the session started: a
    // grandchild left holding the output pipe would keep 'close' from ever coming.
    const child = spawn('bash', ['-c', script], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NO_COLOR: '1',
        NODE_OPTIONS: [process.env.NODE_OPTIONS ?? '', ...hangReportArguments(hang.reports)].join(' ').trim(),
      },
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    const timer = setTimeout(async () => {
      output += `\nreadme: stopped after ${timeoutMs / 1000} s; what was running:\n`;
      output += await describeHang(child.pid!, [hang.server], hang.reports);
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

t.test('every shell block of the README runs as written, in order, on a fresh clone', async (t) => {
  const blocks = shellBlocks(readFileSync(join(repository, 'README.md'), 'utf8'));
  // On PostgreSQL `sluice backup` refuses and says to use pg_dump (README, "Backups on
  // PostgreSQL"), so the SQLite backup section is the one part that does not apply.
  if (testDialect === 'postgres') {
    for (const block of blocks)
      if (block.section === 'Backups') block.skipped ??= 'on PostgreSQL, backups are pg_dump\'s (README, "Backups on PostgreSQL")';
  }
  const runnable = blocks.filter((block) => block.skipped === null);
  t.ok(runnable.length >= 8, `the walk-through is there (${runnable.length} blocks run, ${blocks.length - runnable.length} left out)`);
  for (const block of blocks.filter((each) => each.skipped !== null)) t.comment(`left out: "${block.firstLine}": ${block.skipped}`);

  // A clone's directory: `npx sluice` finds the CLI in node_modules/.bin, as `npm install` makes it.
  const clone = mkdtempSync(join(tmpdir(), 'sluice-readme-'));
  t.teardown(() => rmSync(clone, { recursive: true, force: true }));
  writeFileSync(join(clone, 'package.json'), JSON.stringify({ name: 'sluice-readme-clone', private: true }));
  mkdirSync(join(clone, 'node_modules', '.bin'), { recursive: true });
  // The built CLI (helpers/built-cli.ts): the session runs `npx sluice` some twenty times, and
  // each run under tsx cost a second of CPU more; the server is the source entry, as `npm start`.
  writeFileSync(join(clone, 'node_modules', '.bin', 'sluice'), `#!/bin/sh\nexec "${process.execPath}" "${sluiceBin}" "$@"\n`, {
    mode: 0o755,
  });

  // On PostgreSQL, an empty database: the server migrates it at its first start.
  let database: string[] = [];
  if (testDialect === 'postgres') {
    await postgresUnavailable();
    database = ['--database', (await postgresTestDatabase(t, { empty: true })).url];
  }
  // The server a user starts: the source entry, as `npm start` runs it.
  // A session that hangs is described before it is stopped (helpers/hang-report.ts).
  const reports = join(clone, 'hang-reports');
  mkdirSync(reports);
  const server = await startServerProcess(join(clone, 'data'), database, hangReportArguments(reports), sourceBin);
  t.teardown(server.stop);
  const address = new URL(server.url).host;
  const script = [
    'set -euo pipefail',
    // A refused call must fail the run, as a reader would notice its error; the README's own
    // `curl -s` stays as written.
    'curl() { command curl --fail-with-body "$@"; }',
    ...runnable.map(
      (block, index) => `echo "readme: block ${index + 1} at \${SECONDS} s: ${block.firstLine.replace(/["$`\\]/g, '')}" >&2\n${block.text}`,
    ),
    'echo "readme: every block ran" >&2',
  ]
    .join('\n')
    .replaceAll('127.0.0.1:8080', address);
  // Well inside tap's timeout for the file, so that a session that hangs is stopped here and
  // its output (which block it was in) is printed below.
  const result = await runBash(script, clone, 180_000, { reports, server: server.process.pid! });
  if (!t.equal(result.code, 0, 'the session ran to its end')) t.comment(result.output.slice(-12000));
  t.match(result.output, /readme: every block ran/);
  t.match(result.output, /identical/, 'the download is byte-identical');
  t.match(result.output, /state:\s+waiting_window/, 'the agent staged the update and waits for the window');
  t.match(result.output, /final: \{"idle@2\.1\.0":20\}/, 'the simulated fleet committed');
  t.match(result.output, /committed: 20|"committed":20|committed.*20/, 'the plan saw them commit');
  if (testDialect === 'sqlite') t.match(result.output, /restored backups\/sluice-/, 'the backup restored');
});
