// SHA-1 and MD5 for hawkBit's DDI clients are computed off the upload's path (issue #7):
// the publish starts them in the background, and a caller that comes first, or after a
// restart lost that work, computes them from the stored artifact and keeps them in the row.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';
import { legacyDigestsOf } from '../../server/services/legacy-digests.js';
import { getRelease } from '../../server/storage/releases.js';

const artifact = randomBytes(3 * 1024 * 1024 + 5);
const expected = { sha1: createHash('sha1').update(artifact).digest('hex'), md5: createHash('md5').update(artifact).digest('hex') };

t.test('digests missing from the row are computed once from the stored artifact and kept', async (t) => {
  const server = await startTestServer(t);
  const fleet = await seedFleet(server);
  const published = await uploadRelease(server, fleet.tokens.release, signedManifest(artifact, { product: 'emu', version: '1.0.0' }, [server.keys.release]), artifact);
  t.equal(published.status, 201);
  const { db } = server.app.sluice;
  const id = published.json.id;
  let release = getRelease(db, id)!;
  t.same(await legacyDigestsOf(server.app.sluice, release), expected, 'the background pass or this call computed them');

  // As after a restart that lost the background pass.
  db.prepare("UPDATE releases SET sha1 = '', md5 = '' WHERE id = ?").run(id);
  release = getRelease(db, id)!;
  const first = legacyDigestsOf(server.app.sluice, release);
  t.equal(legacyDigestsOf(server.app.sluice, release), first, 'a second caller shares the pass under way');
  t.same(await first, expected);
  t.match(getRelease(db, id), expected, 'kept in the row');
});
