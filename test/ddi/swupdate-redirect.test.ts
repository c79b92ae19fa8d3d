// The hawkBit DDI proof once more with the artifacts in an S3 bucket (moto behind
// helpers/object-store.ts) and redirect delivery: sluice answers SWUpdate's download with a 307
// to a pre-signed URL, SWUpdate's suricatta (libcurl) follows it, fetches the image from the
// store without its token, installs it inside the window and reports.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { confirmedPlanScenario } from '../helpers/scenario.js';
import { buildSwu, startSuricatta, readIfExists } from '../helpers/swupdate.js';
import { waitFor } from '../helpers/agent.js';
import { objectStoreUnavailable, startObjectStore } from '../helpers/object-store.js';

const missing = ['/usr/bin/swupdate', '/usr/bin/cpio', '/usr/bin/openssl'].filter((path) => !existsSync(path));
const skip = missing.length ? `needs ${missing.join(', ')} (.ci/run installs swupdate and cpio)` : objectStoreUnavailable();

t.test('SWUpdate follows the redirect to a pre-signed URL and installs from the object store', { skip }, async (t) => {
  const objects = await startObjectStore(t);
  Object.assign(process.env, objects.env);
  const directory = mkdtempSync(join(tmpdir(), 'sluice-swupdate-s3-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const image = buildSwu(directory, 'installed from the object store\n');
  const scenario = await confirmedPlanScenario(t, {
    secondsBeforeWindow: -60,
    artifact: image.swu,
    manifest: { name: 'update.swu' },
    server: { artifactStoreUrl: objects.storeUrl(), artifactDelivery: { mode: 'redirect', presignSeconds: 60 } },
  });
  const swupdate = startSuricatta({
    directory,
    certificate: image.certificate,
    server: scenario.url,
    deviceId: 'emu-0001',
    token: scenario.tokens['emu-0001'],
    pollSeconds: 1,
  });
  t.teardown(swupdate.stop);
  await waitFor(() => readIfExists(image.installedPath), 'SWUpdate to install', 60_000).catch((error) =>
    t.fail(`${error.message}\n${swupdate.output().slice(-3000)}`),
  );
  t.equal(readIfExists(image.installedPath), 'installed from the object store\n', 'the image was installed');
  const fromStore = objects.seen.filter((request) => request.method === 'GET' && request.query.has('X-Amz-Signature'));
  t.ok(
    fromStore.some((request) => request.status === 200 || request.status === 206),
    `SWUpdate fetched the image from the store (${JSON.stringify(fromStore.map((request) => request.status))})`,
  );
  t.ok(
    fromStore.every((request) => request.authorization === null),
    'without its token: the store saw no Authorization header',
  );
  t.ok((await scenario.server.app.sluice.store.audit.count({ action: 'ddi.download' })) >= 1, 'sluice authorized the download itself');
});
