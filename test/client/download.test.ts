// The resumable download (DESIGN.md, "Device agent"), against a real socket: a cut resumes
// with Range from the byte on disk and ends byte-identical; it stops at the manifest's size;
// the digest is checked; free space is checked before a byte is asked for.
import t, { type Test } from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download } from '../../client/download.js';
import { AgentError } from '../../client/errors.js';
import { startFakeServer, throwAwayTrust, manifestFor } from './helpers/fake-server.js';
import { signDocument } from '../../signing/signed.js';

const artifact = randomBytes(2 * 1024 * 1024 + 13);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

async function setup(t: Test, served: Buffer = artifact) {
  const { keys } = throwAwayTrust();
  const server = await startFakeServer({ keys });
  t.teardown(server.close);
  server.script.offer = {
    id: 'a1',
    manifest: signDocument(manifestFor(artifact), [keys.release]),
    bytes: served,
    window: null,
    installAllowed: false,
    downgrade: false,
  };
  const directory = mkdtempSync(join(tmpdir(), 'sluice-download-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const target = {
    url: `${server.url}/api/v1/releases/release-a1/artifact`,
    token: 'device-token',
    size: artifact.length,
    sha256: sha256(artifact),
    path: join(directory, 'partial', `${sha256(artifact)}.part`),
  };
  return { server, target };
}

async function codeOf(promise: Promise<unknown>): Promise<string | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return error instanceof AgentError ? error.code : `not an AgentError: ${(error as Error).message}`;
  }
}

t.test('a whole download in one go, with the device token', async (t) => {
  const { server, target } = await setup(t);
  const result = await download(target);
  t.same(result, { resumedFrom: 0, sha256: target.sha256, size: artifact.length });
  t.ok(readFileSync(target.path).equals(artifact));
  t.same(server.seen.artifactRequests, [{ method: 'GET', range: null, authorization: 'Bearer device-token' }]);
});

/** This process's open descriptors on `path`. */
const openOn = (path: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(join('/proc/self/fd', fd)) === path;
    } catch {
      return false;
    }
  }).length;

t.test(
  'the download is done once the file is closed, which is after its fsync: not at the last write',
  { skip: process.platform !== 'linux' },
  async (t) => {
    const { target } = await setup(t);
    await download(target);
    // The stream fsyncs when it closes; 'finish' came before, and the journal said `downloaded`
    // while the file was still open and its bytes on their way to the disk.
    t.equal(openOn(target.path), 0, 'no descriptor on the file is left open when it resolves');
  },
);

t.test('cut twice: each attempt asks Range from the byte on disk; the result is byte-identical', async (t) => {
  const { server, target } = await setup(t);
  server.script.cutArtifactAfterBytes = 700_000;
  t.equal(await codeOf(download(target)), 'download_failed', 'the cut is a download failure (retried later)');
  const kept = statSync(target.path).size;
  t.ok(kept > 0 && kept <= 700_000, `${kept} bytes kept`);
  t.ok(readFileSync(target.path).equals(artifact.subarray(0, kept)), 'what is kept is a prefix of the artifact');
  server.script.cutArtifactAfterBytes = 500_000;
  t.equal(await codeOf(download(target)), 'download_failed');
  const keptAgain = statSync(target.path).size;
  t.ok(keptAgain > kept, `${keptAgain} bytes kept after the second cut`);
  const result = await download(target);
  t.equal(result.resumedFrom, keptAgain, 'the third attempt resumed from the bytes on disk');
  t.same(
    server.seen.artifactRequests.map((request) => request.range),
    [null, `bytes=${kept}-`, `bytes=${keptAgain}-`],
  );
  t.ok(readFileSync(target.path).equals(artifact), 'byte-identical');
  t.equal(result.sha256, target.sha256, 'the hash carried across resumes');
});

t.test('a server that ignores Range sends everything again: the file starts over, still right', async (t) => {
  const { server, target } = await setup(t);
  server.script.cutArtifactAfterBytes = 300_000;
  await codeOf(download(target));
  server.script.ignoreRange = true;
  const result = await download(target);
  t.equal(server.seen.artifactRequests[1].range?.startsWith('bytes='), true, 'it asked for a Range');
  t.ok(readFileSync(target.path).equals(artifact), 'byte-identical after the 200');
  t.equal(result.sha256, target.sha256);
});

t.test('endless data: stops at the manifest size and keeps nothing', async (t) => {
  const { server, target } = await setup(t);
  server.script.endlessExtraBytes = 1024 * 1024;
  t.equal(await codeOf(download(target)), 'download_too_large');
  t.equal(statSync(target.path).size, 0, 'the part file is emptied');
});

t.test('tampered bytes of the right size: digest_mismatch, the part file is emptied', async (t) => {
  const tampered = Buffer.from(artifact);
  tampered[12345] ^= 0xff;
  const { target } = await setup(t, tampered);
  t.equal(await codeOf(download(target)), 'digest_mismatch');
  t.equal(statSync(target.path).size, 0, 'the next attempt starts from zero, not from poisoned bytes');
});

t.test('tampered bytes already on disk (a poisoned part file) are caught at the end', async (t) => {
  const { target } = await setup(t);
  mkdirSync(join(target.path, '..'), { recursive: true });
  writeFileSync(target.path, randomBytes(1000));
  t.equal(await codeOf(download(target)), 'digest_mismatch', 'the existing part is hashed too');
  const result = await download(target);
  t.equal(result.resumedFrom, 0, 'then it starts over');
  t.ok(readFileSync(target.path).equals(artifact));
});

t.test('a part file longer than the artifact is thrown away', async (t) => {
  const { server, target } = await setup(t);
  mkdirSync(join(target.path, '..'), { recursive: true });
  writeFileSync(target.path, Buffer.concat([artifact, Buffer.from('junk')]));
  await download(target);
  t.equal(server.seen.artifactRequests[0].range, null);
  t.ok(readFileSync(target.path).equals(artifact));
});

t.test('not enough free space: refused before a byte is asked for', async (t) => {
  const { server, target } = await setup(t);
  t.equal(await codeOf(download({ ...target, size: 2 ** 60 })), 'insufficient_space');
  t.same(server.seen.artifactRequests, [], 'nothing requested');
});

t.test('an artifact the device is not assigned (403) and an unreachable server fail as download_failed', async (t) => {
  const { server, target } = await setup(t);
  server.script.offer = null;
  t.equal(await codeOf(download(target)), 'download_failed');
  server.script.unreachable = true;
  t.equal(await codeOf(download(target)), 'download_failed');
  t.notOk(existsSync(target.path) && statSync(target.path).size > 0, 'nothing kept');
});
