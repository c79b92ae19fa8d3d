// The plans repository on both stores (storage/repositories/plans.ts), and the device-event
// methods the plans use: what several processes race on is decided once (a transition, a
// wave verdict, the overdue flag, a resent event), and a steady-state check-in costs one
// statement: the check-in read joined behind the token lookup.
import t, { type Test } from 'tap';
import { forEachSession } from '../helpers/database.js';
import { createStore, type Store } from '../../server/storage/store.js';
import type { SqlDatabase, SqlSession } from '../../server/storage/sql.js';
import type { Plan } from '../../server/storage/repositories/records.js';
import { draftPlan } from '../../server/services/plans.js';
import { answerCheckin, checkinByToken } from '../../server/services/checkin.js';
import { createCheckinSigner } from '../../server/services/checkin-signer.js';
import { resolveOptions } from '../../server/config.js';
import { DomainEventBus } from '../../server/events.js';
import { generateKeyPair } from '../../signing/keys.js';
import { liveStatuses, lateJoiningStatuses } from '../../server/domain/plans.js';
import { installingStates } from '../../client/states.js';
import type { SluiceContext } from '../../server/context.js';

const now = new Date('2027-01-10T01:30:00Z');
const window = { start: '2027-01-10T02:00', end: '2027-01-10T05:00', timezone: 'Europe/Madrid' };
const manifest = {
  signed: { type: 'release', product: 'emu', version: '2.0.0', hardware: ['hw'], artifact: { name: 'a', size: 1, sha256: 'ab' } },
  signatures: [],
};

/** Every statement a session runs, transactions' included. */
function counting(session: SqlSession, counter: { statements: number }): SqlSession {
  return {
    dialect: session.dialect,
    forUpdate: session.forUpdate,
    all: (sql, params) => {
      counter.statements += 1;
      return session.all(sql, params);
    },
    get: (sql, params) => {
      counter.statements += 1;
      return session.get(sql, params);
    },
    run: (sql, params) => {
      counter.statements += 1;
      return session.run(sql, params);
    },
    transaction: (work) => session.transaction((inner) => work(counting(inner, counter))),
  };
}

async function seed(database: SqlDatabase, options: { waves?: Plan['waves']; maxConcurrent?: number | null } = {}) {
  const counter = { statements: 0 };
  const store = createStore(
    Object.assign(counting(database, counter), { close: async () => undefined, observeStatements: () => undefined }),
  );
  await store.products.create({ id: 'emu', name: 'EMU' }, now);
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' }, now);
  const tokens: Record<string, string> = {};
  for (const id of ['emu-a', 'emu-b', 'emu-c'])
    tokens[id] = (await store.devices.create({ id, customer: 'acme', product: 'emu', hardware: 'hw', version: '1.0.0' }, now)).token;
  await store.releases.insert({
    id: 'rel-2',
    product: 'emu',
    version: '2.0.0',
    sha256: 'ab',
    size: 1,
    sha1: '',
    md5: '',
    manifest: manifest as never,
    publishedAt: now,
    publishedBy: 'user:r',
  });
  const plan = draftPlan(
    {
      id: 'plan-1',
      kind: 'upgrade',
      customer: 'acme',
      release: 'rel-2',
      windows: [window],
      waves: options.waves ?? [],
      seed: 's',
      deadline: new Date('2027-02-01T00:00:00Z'),
      notes: '',
      details: null,
      maxConcurrent: options.maxConcurrent ?? null,
      expectedInstallSeconds: 600,
      createdBy: 'user:s',
    },
    now,
  );
  await store.plans.insert(plan);
  await store.plans.addDevices(plan.id, ['emu-a', 'emu-b', 'emu-c', 'emu-a'], now);
  return { store, counter, plan, tokens };
}

async function confirm(store: Store, plan: Plan, waves: string[][]) {
  await store.plans.drawWaves(plan.id, waves, now);
  await store.plans.transition(
    plan.id,
    'draft',
    'confirmed',
    { confirmedWindow: 0, confirmedBy: 'user:c', confirmedAt: now, maintainer: { name: 'Ana', phone: '600' } },
    now,
  );
}

forEachSession(t, 'plans round trip as domain objects', async (t, database) => {
  const { store, plan } = await seed(database);
  t.same(await store.plans.get(plan.id), plan, 'what was inserted, windows parsed and dates as Dates');
  t.same(
    (await store.plans.list({ customer: 'acme' })).map((each) => each.id),
    [plan.id],
  );
  t.same(await store.plans.list({ status: 'confirmed' }), []);
  t.same(
    (await store.plans.devices(plan.id)).map((member) => [member.device, member.wave]),
    [
      ['emu-a', null],
      ['emu-b', null],
      ['emu-c', null],
    ],
    'a device listed twice is added once',
  );
  await store.plans.insertDocument({
    plan: plan.id,
    version: 1,
    markdown: '# Plan',
    html: '<h1>Plan</h1>',
    createdBy: 'user:s',
    createdAt: now,
  });
  t.match(await store.plans.document(plan.id, 1), { version: 1, markdown: '# Plan', createdAt: now });
  t.equal(await store.plans.document(plan.id, 2), undefined);
});

forEachSession(t, 'transitions, verdicts and the overdue flag are each taken once', async (t, database) => {
  const { store, plan } = await seed(database);
  t.equal(await store.plans.transition(plan.id, 'draft', 'proposed', { documentVersion: 1 }, now), true);
  t.equal(
    await store.plans.transition(plan.id, 'draft', 'proposed', { documentVersion: 2 }, now),
    false,
    'the second racer finds it moved',
  );
  t.match(await store.plans.get(plan.id), { status: 'proposed', documentVersion: 1 });
  t.equal(await store.plans.flagOverdue(plan.id, 'no_window_before_deadline'), true);
  t.equal(await store.plans.flagOverdue(plan.id, 'no_window_before_deadline'), false, 'the same reason again');
  t.equal(await store.plans.flagOverdue(plan.id, 'unconfirmed_past_deadline'), true, 'a new reason');
  await store.plans.drawWaves(plan.id, [['emu-b'], ['emu-a', 'emu-c']], now);
  t.same(
    (await store.plans.waves(plan.id)).map((wave) => [wave.wave, wave.status, wave.openedAt]),
    [
      [0, 'open', now],
      [1, 'pending', null],
    ],
  );
  t.equal(await store.plans.finishWave(plan.id, 0, 'succeeded', now), true);
  t.equal(await store.plans.finishWave(plan.id, 0, 'failed', now), false, 'a verdict is reached once');
  await store.plans.setDeviceState(plan.id, 'emu-a', 'committed', now);
  await store.plans.setDeviceState(plan.id, 'emu-c', 'committed', now);
  t.same(
    (await store.plans.stateCounts(plan.id)).sort((a, b) => String(a.wave).localeCompare(String(b.wave))),
    [
      { wave: 0, state: null, devices: 1 },
      { wave: 1, state: 'committed', devices: 2 },
    ],
  );
});

forEachSession(t, 'membership, late devices and reported events', async (t, database) => {
  const { store, plan } = await seed(database);
  await confirm(store, plan, [['emu-a'], ['emu-b', 'emu-c']]);
  const member = await store.transaction((tx) => tx.plans.membership(plan.id, 'emu-a', { lock: true }));
  t.match(member, { plan: { id: plan.id, status: 'confirmed' }, releaseVersion: '2.0.0' });
  t.equal(await store.plans.membership(plan.id, 'ghost'), undefined);
  t.same(
    (await store.plans.ofCustomerProduct('acme', 'emu', lateJoiningStatuses)).map((each) => each.id),
    [plan.id],
  );
  t.same(await store.plans.ofCustomerProduct('acme', 'gateway', lateJoiningStatuses), []);
  await store.devices.create({ id: 'emu-late', customer: 'acme', product: 'emu', hardware: 'hw', version: '1.0.0' }, now);
  t.equal(await store.plans.joinLate(plan.id, 'emu-late', 1, now), true);
  t.equal(await store.plans.joinLate(plan.id, 'emu-late', 0, now), false, 'a device already in the plan keeps its wave');
  t.equal((await store.plans.devices(plan.id)).find((each) => each.device === 'emu-late')?.wave, 1);

  const event = {
    eventId: 'e-1',
    device: 'emu-a',
    assignment: plan.id,
    plan: plan.id,
    release: 'rel-2',
    state: 'committed',
    detail: null,
    progress: 0.5,
    at: now,
    receivedAt: now,
  };
  t.equal(await store.devices.recordEvent(event), true);
  t.equal(await store.devices.recordEvent({ ...event, state: 'failed' }), false, 'a resend is stored once');
  t.equal(await store.devices.eventCount({ eventId: 'e-1' }), 1);
  t.same(await store.devices.eventCounts(plan.id), { devices: 1, committed: 1, duplicates: 0 });
  await store.devices.applyReport('emu-a', { state: 'committed', at: now, version: '2.0.0' });
  await store.devices.applyReport('emu-b', { state: 'downloading', at: now });
  t.match(await store.devices.get('emu-a'), { version: '2.0.0', state: 'committed', lastSeenAt: now });
  t.match(await store.devices.get('emu-b'), { version: '1.0.0', state: 'downloading' }, 'only a commit changes the version');
});

forEachSession(t, 'the check-in read: live plans with release, earlier waves and installs in one statement', async (t, database) => {
  const { store, counter, plan } = await seed(database, { waves: [{ count: 1, soakSeconds: 60 }, {}], maxConcurrent: 1 });
  const read = (device: string) => store.plans.checkinRead(device, liveStatuses, installingStates);
  t.same(await read('emu-a'), { assignments: [], consentedSessions: false }, 'a draft plan assigns nothing');
  t.same(await read('ghost'), { assignments: [], consentedSessions: false }, 'an unknown device');
  await confirm(store, plan, [['emu-a'], ['emu-b', 'emu-c']]);
  await store.plans.setDeviceState(plan.id, 'emu-b', 'installing', now);
  await store.plans.finishWave(plan.id, 0, 'succeeded', now);
  counter.statements = 0;
  const canary = await read('emu-a');
  t.equal(counter.statements, 1, 'one statement');
  t.equal(canary.assignments.length, 1);
  t.match(canary.assignments[0], {
    plan: {
      id: plan.id,
      status: 'confirmed',
      windows: [window],
      confirmedWindow: 0,
      confirmedAt: now,
      maxConcurrent: 1,
      expectedInstallSeconds: 600,
    },
    deviceWave: 0,
    deviceState: null,
    earlierWaves: [],
    activeInstalls: 1,
    release: { id: 'rel-2', version: '2.0.0', yanked: false, manifest },
  });
  t.ok(Object.isFrozen(canary.assignments[0].release.manifest), 'the shared, frozen manifest');
  t.equal(
    (await read('emu-a')).assignments[0].release.manifest,
    canary.assignments[0].release.manifest,
    'the same object at the next check-in',
  );
  const later = (await read('emu-c')).assignments[0];
  t.match(
    later,
    { deviceWave: 1, activeInstalls: 1, earlierWaves: [{ wave: 0, status: 'succeeded', finishedAt: now }] },
    "wave 1 sees wave 0's verdict",
  );
  t.equal((await read('emu-b')).assignments[0].activeInstalls, 0, 'a device does not count its own install');
  await store.plans.transition(plan.id, 'confirmed', 'paused', { pausedFrom: 'confirmed' }, now);
  t.same((await read('emu-a')).assignments, [], 'a paused plan is not live');
});

forEachSession(t, 'the check-in read by token: its holder and the same read, in one statement', async (t, database) => {
  const { store, counter, plan, tokens } = await seed(database, { waves: [{ count: 1, soakSeconds: 60 }, {}], maxConcurrent: 1 });
  await confirm(store, plan, [['emu-a'], ['emu-b', 'emu-c']]);
  await store.plans.finishWave(plan.id, 0, 'succeeded', now);
  await store.supportSessions.insert({
    id: 'session-1',
    device: 'emu-c',
    customer: 'acme',
    reason: 'logs',
    collect: ['logs'],
    requestedBy: 'user:s',
    requestedAt: now,
  });
  await store.supportSessions.decide('session-1', 'requested', {
    status: 'consented',
    decidedBy: 'user:c',
    decidedAt: now,
    expiresAt: new Date(now.getTime() + 3600_000),
  });
  for (const device of ['emu-a', 'emu-c']) {
    counter.statements = 0;
    const found = await checkinByToken(store, tokens[device]);
    t.equal(counter.statements, 1, `${device}: one statement`);
    t.match(found?.principal, {
      kind: 'device',
      id: device,
      customer: 'acme',
      product: 'emu',
      hardware: 'hw',
      version: '1.0.0',
      state: null,
    });
    t.same(found?.read, await store.plans.checkinRead(device, liveStatuses, installingStates), `${device}: the read by id`);
    t.equal(found?.read.consentedSessions, device === 'emu-c', `${device}: its consented session, or none`);
    t.equal(found?.read.assignments.length, 1, `${device}: its live plan`);
  }
  t.equal(await checkinByToken(store, 'd_nonexistent'), null, 'an unknown token');
  const user = await store.users.create({ username: 'ops', role: 'support' }, now);
  t.same(
    await checkinByToken(store, user.token),
    {
      principal: { kind: 'user', id: user.id, username: 'ops', role: 'support', customer: null },
      read: { assignments: [], consentedSessions: false },
    },
    "a user's token: its holder, nothing to read",
  );
  await store.devices.rotateToken('emu-a', now);
  t.equal(await checkinByToken(store, tokens['emu-a']), null, 'a revoked token');
});

t.test('a steady-state check-in costs one statement: the check-in read by token', async (t: Test) => {
  forEachSession(t, 'on each store', async (t, database) => {
    const { store, counter, plan, tokens } = await seed(database, { maxConcurrent: 2 });
    await confirm(store, plan, [['emu-a', 'emu-b', 'emu-c']]);
    const signer = createCheckinSigner(generateKeyPair().privateKey, 0);
    const context = {
      store,
      options: resolveOptions({ dataDir: '/nonexistent', now: () => now }),
      checkinSigner: signer,
      events: new DomainEventBus(),
    } as unknown as SluiceContext;
    context.diagnosticsRequest = async () => {
      throw new Error('asked for diagnostics without a consented session');
    };
    for (const round of ['first', 'steady']) {
      counter.statements = 0;
      const found = await checkinByToken(store, tokens['emu-a']);
      if (found?.principal.kind !== 'device') throw new Error('no device');
      const answer = JSON.parse(
        await answerCheckin(context, found.principal, { version: '1.0.0', nonce: 'ab'.repeat(16) }, now, found.read),
      );
      t.equal(answer.signed.assignment.plan, plan.id, `${round}: assigned`);
      t.equal(counter.statements, 1, `${round}: one statement`);
    }
  });
});
