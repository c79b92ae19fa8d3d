// hashFile streams a file through SHA-256 (the release signer and the agent both use it).
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from '../../signing/digest.js';

t.test('known digests and sizes, across chunk boundaries', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-digest-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const file = (name: string, bytes: Buffer) => {
    writeFileSync(join(directory, name), bytes);
    return join(directory, name);
  };
  t.same(await hashFile(file('empty', Buffer.alloc(0))), {
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    size: 0,
  });
  t.same(await hashFile(file('abc', Buffer.from('abc'))), {
    sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    size: 3,
  });
  // Three full 1 MiB chunks and a partial one.
  const bytes = randomBytes(3 * 1024 * 1024 + 17);
  t.same(await hashFile(file('image', bytes)), { sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length });
  await t.rejects(hashFile(join(directory, 'missing')), { code: 'ENOENT' });
});
