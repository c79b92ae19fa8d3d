// Check-ins of devices in a live plan, through the real routes: the plan's concurrency cap
// (the count of installing devices comes from the (plan, state) index and is asked only for
// capped plans) and the release's manifest, which check-ins keep parsed and canonicalized
// (server/storage/manifest-memo.ts) while its yank is read at every check-in.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease } from '../helpers/server.js';

// Inside the confirmed window: 02:00-05:00 in Madrid on 2027-01-10 is 01:00-04:00 UTC.
const insideWindow = new Date('2027-01-10T01:30:00Z');

async function planInItsWindow(t: Test, cap: number | null) {
  const server = await startTestServer(t, { now: () => insideWindow });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const tokens = { a: await fleet.addDevice('emu-a'), b: await fleet.addDevice('emu-b'), c: await fleet.addDevice('emu-c') };
  const artifact = randomBytes(1024);
  const manifest = signedManifest(artifact, { product: 'emu', version: '2.0.0' }, [server.keys.release]);
  const release = await uploadRelease(server, fleet.tokens.release, manifest, artifact);
  const plan = (
    await server.call('POST', '/api/v1/plans', fleet.tokens.support, {
      customer: 'acme',
      release: release.json.id,
      deadline: '2027-02-01T00:00:00Z',
      windows: [{ start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' }],
      ...(cap === null ? {} : { maxConcurrent: cap }),
    })
  ).json;
  await server.call('POST', `/api/v1/plans/${plan.id}/propose`, fleet.tokens.support);
  const confirmed = await server.call('POST', `/api/v1/plans/${plan.id}/confirm`, fleet.tokens.customer, {
    window: 0,
    maintainer: { name: 'Ana', phone: '+34 600' },
  });
  t.equal(confirmed.status, 200, 'plan confirmed');
  const mayInstall = async (token: string) => {
    const answer = await server.call('POST', '/api/v1/device/checkin', token, { version: '1.0.0', nonce: 'cd'.repeat(16) });
    t.equal(answer.status, 200);
    return answer.json.signed.assignment?.installAllowed as boolean;
  };
  const report = async (token: string, state: string) =>
    t.equal((await server.call('POST', '/api/v1/device/events', token, { assignment: plan.id, state })).status, 204, `reported ${state}`);
  return { server, fleet, manifest, release: release.json.id as string, tokens, mayInstall, report };
}

t.test('a cap of one: a second device waits while the first installs, and goes once it is done', async (t) => {
  const { tokens, mayInstall, report } = await planInItsWindow(t, 1);
  t.equal(await mayInstall(tokens.a), true, 'a free slot');
  await report(tokens.a, 'installing');
  t.equal(await mayInstall(tokens.b), false, 'the one slot is taken');
  t.equal(await mayInstall(tokens.a), true, 'the device that holds the slot keeps it');
  await report(tokens.a, 'health_check');
  t.equal(await mayInstall(tokens.c), false, 'a health check still holds the slot');
  await report(tokens.a, 'committed');
  t.equal(await mayInstall(tokens.b), true, 'the slot is free again');
  // The device's version comes with its token at each request: committed means up to date.
  t.equal(await mayInstall(tokens.a), undefined, 'the committed device has nothing more to do');
});

t.test('without a cap every device may install at once', async (t) => {
  const { tokens, mayInstall, report } = await planInItsWindow(t, null);
  await report(tokens.a, 'installing');
  await report(tokens.b, 'installing');
  t.equal(await mayInstall(tokens.c), true);
});

t.test('the answer carries the release manifest as published, and a yank stops it at the next check-in', async (t) => {
  const { server, fleet, manifest, release, tokens } = await planInItsWindow(t, null);
  for (const round of ['first', 'second (remembered)']) {
    const answer = await server.call('POST', '/api/v1/device/checkin', tokens.a, { version: '1.0.0', nonce: 'ef'.repeat(16) });
    t.same(answer.json.signed.assignment.manifest, manifest, `${round} answer: the signed manifest as published`);
  }
  t.equal((await server.call('POST', `/api/v1/releases/${release}/yank`, fleet.tokens.release, { reason: 'bad build' })).status, 200);
  const answer = await server.call('POST', '/api/v1/device/checkin', tokens.a, { version: '1.0.0', nonce: 'ef'.repeat(16) });
  t.equal(answer.json.signed.assignment, null, 'no assignment once yanked');
});
