// `sluice server` warns at every start when the offline root or release keys sit where the
// online server can read them (issue 15): the development bootstrap's DIR/keys, a renamed copy
// beside the server key; and says nothing when only the server key is there. The messages are
// the ones cli/server.ts prints to stderr (app.bootstrapReport).
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initKeys } from '../../cli/keys.js';
import { startTestServer } from '../helpers/server.js';
import { testServerDatabase } from '../helpers/database.js';
import { buildApp } from '../../server/app.js';

const warnings = (messages: string[]) => messages.filter((message) => message.startsWith('warning:'));

t.test('the development bootstrap: warned at the first start and at every start after', async (t) => {
  const server = await startTestServer(t);
  const [warning] = warnings(server.app.bootstrapReport.messages);
  t.match(warning, /root key .*keys\/root\.key/, 'names the root key');
  t.match(warning, /release key .*keys\/release\.key/, 'names the release key');
  t.notMatch(warning, /server\.key/, 'the server key belongs there');
  t.match(warning, /Running in production/, 'and says where to read what to do');
  await server.close();
  const again = await startTestServer(t, { dataDir: server.dataDir, databaseUrl: server.databaseUrl });
  t.equal(warnings(again.app.bootstrapReport.messages).length, 1, 'warned again on a restart');
});

t.test('a production layout: root.json and server.key only, no warning; a renamed release key is found', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'sluice-key-placement-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const offline = initKeys(join(work, 'offline'));
  const etc = join(work, 'etc');
  mkdirSync(etc);
  copyFileSync(offline.rootPath, join(etc, 'root.json'));
  copyFileSync(offline.keyPaths.server, join(etc, 'server.key'));
  writeFileSync(join(etc, 'notes.pem'), 'not a key\n');
  // buildApp itself: the test server helper expects the development layout.
  const database = await testServerDatabase();
  t.teardown(() => database.drop());
  const start = async () => {
    const app = await buildApp({
      dataDir: join(work, 'data'),
      databaseUrl: database.url,
      trustRootPath: join(etc, 'root.json'),
      serverKeyPath: join(etc, 'server.key'),
    });
    await app.close();
    return warnings(app.bootstrapReport.messages);
  };
  t.same(await start(), [], 'nothing to warn about');
  copyFileSync(offline.keyPaths.release, join(etc, 'backup.pem'));
  const [warning] = await start();
  t.match(warning, /release key .*etc\/backup\.pem/, 'found by its key id, whatever the file is called');
});
