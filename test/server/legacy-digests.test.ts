// SHA-1 and MD5 for hawkBit's DDI clients are computed off the upload's path (issue #7):
// the publish starts them in the background, and a caller that comes first, or after a
// restart lost that work, computes them from the stored artifact and keeps them in the row.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';
import { legacyDigestsOf } from '../../server/services/legacy-digests.js';

const artifact = randomBytes(3 * 1024 * 1024 + 5);
const expected = { sha1: createHash('sha1').update(artifact).digest('hex'), md5: createHash('md5').update(artifact).digest('hex') };

t.test('digests missing from the row are computed once from the stored artifact and kept', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const published = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '1.0.0' }, [server.keys.release]),
    artifact,
  );
  t.equal(published.status, 201);
  const { store } = server.app.sluice;
  const release = (await store.releases.get(published.json.id))!;
  t.same(await legacyDigestsOf(server.app.sluice, release), expected, 'the background pass or this call computed them');
  t.match(await store.releases.get(release.id), expected, 'kept in the row');

  // A row whose digests are still empty, as after a restart that lost the background pass.
  const bare = { ...release, id: 'release-without-digests', version: '1.0.1', sha1: '', md5: '' };
  await store.releases.insert(bare);
  const first = legacyDigestsOf(server.app.sluice, bare);
  t.equal(legacyDigestsOf(server.app.sluice, bare), first, 'a second caller shares the pass under way');
  t.same(await first, expected);
  t.match(await store.releases.get(bare.id), expected, 'kept in the row');
});
