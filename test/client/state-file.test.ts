// The agent's persisted state (DESIGN.md, "Device agent"): the device (version, active slot)
// and the journal in one file written atomically (temp file, fsync, rename, fsync of the
// directory), so the commit — new version and "committed" — is one transaction (STYLE.md).
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readStateFile, writeStateFile, stateFilePath, writeFileAtomically } from '../../client/state-file.js';

const temporaryDirectory = (t: Test) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-state-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
};

t.test('a device without a state file starts idle on its factory version in slot a', async (t) => {
  const directory = temporaryDirectory(t);
  const state = readStateFile(directory, '1.4.0');
  t.same(state.device, { version: '1.4.0', activeSlot: 'a' });
  t.equal(state.journal.state, 'idle');
  t.same(state.journal.attempts, {});
});

t.test('write then read gives the same state; no temporary file is left; mode 0600', async (t) => {
  const directory = temporaryDirectory(t);
  const state = readStateFile(directory, '1.0.0');
  state.journal.state = 'staged';
  state.journal.attempts = { downloading: 2, staged: 1 };
  writeStateFile(directory, state);
  t.same(readStateFile(directory, '9.9.9'), state);
  t.same(readdirSync(directory), ['state.json']);
  t.equal(statSync(stateFilePath(directory)).mode & 0o777, 0o600);
});

t.test('a temporary file left by a crash does not change what is read', async (t) => {
  const directory = temporaryDirectory(t);
  const state = readStateFile(directory, '1.0.0');
  writeStateFile(directory, state);
  writeFileSync(`${stateFilePath(directory)}.tmp-12345`, '{"format":1,"device":{"vers');
  t.same(readStateFile(directory, '1.0.0'), state);
  writeFileAtomically(join(directory, 'other.json'), 'new');
  t.equal(readFileSync(join(directory, 'other.json'), 'utf8'), 'new');
});

t.test('a corrupt state file is an error, not a silent factory reset', async (t) => {
  const directory = temporaryDirectory(t);
  writeFileSync(stateFilePath(directory), '{"format":1,');
  t.throws(() => readStateFile(directory, '1.0.0'));
});

t.test('SIGKILL while the file is being rewritten never leaves a half-written state', async (t) => {
  const directory = temporaryDirectory(t);
  const writer = join(import.meta.dirname, 'helpers', 'state-writer.ts');
  for (let round = 0; round < 6; round++) {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, directory], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 30 + round * 25));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const state = readStateFile(directory, '1.0.0');
    // The commit is one transaction: version and journal state always agree.
    const pair = `${state.device.version}/${state.device.activeSlot}/${state.journal.state}`;
    t.ok(['1.0.0/a/idle', '1.0.0/a/health_check', '2.0.0/b/committed'].includes(pair), `round ${round}: ${pair}`);
  }
});
