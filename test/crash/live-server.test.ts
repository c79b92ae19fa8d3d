// The crash suites' harness (helpers/live-server.ts) on the one point where a slip leaks a
// process: a test that ends while one of its servers is still starting (a sibling start
// failed and Promise.all gave up on the rest, say). That server must die with the test; on
// PostgreSQL its database is dropped at the teardown, and a server left behind came up
// afterwards and retried the dropped database once a second until tap's timeout.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startLiveServer } from '../helpers/live-server.js';
import { waitFor } from '../helpers/agent.js';

t.test('a server still starting when its test ends is killed by the teardown', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-live-start-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  // Loaded before the CLI: the server says it has begun, then holds its start until the gate
  // opens, so the teardown below runs while the start is surely in flight.
  const begun = join(directory, 'begun');
  const gate = join(directory, 'gate');
  const holder = join(directory, 'hold-start.mjs');
  writeFileSync(
    holder,
    `import { existsSync, writeFileSync } from 'node:fs';
writeFileSync(${JSON.stringify(begun)}, '');
while (!existsSync(${JSON.stringify(gate)})) await new Promise((resolve) => setTimeout(resolve, 20));
`,
  );
  const teardowns: (() => unknown)[] = [];
  const ending = { teardown: (fn: () => unknown) => void teardowns.push(fn) };
  const starting = startLiveServer(ending, join(directory, 'data'), { nodeArguments: [`--import=${pathToFileURL(holder).href}`] });
  await waitFor(() => existsSync(begun), 'the server process to begin', 30_000, 20);

  // The test ends now: its teardowns run, the last registered first, as tap runs them.
  const tearingDown = (async () => {
    for (const teardown of teardowns.reverse()) await teardown();
  })();
  writeFileSync(gate, '');
  await tearingDown;
  const server = await starting;
  const leftRunning = server.alive();
  if (leftRunning) await server.kill();
  t.notOk(leftRunning, 'no server outlives the teardown of the test that started it');
});
