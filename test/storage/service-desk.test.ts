// The service desk's and DDI's repositories behave alike on both stores: domain objects out,
// and every step that several processes may race on (a fault number, a fault step, a consent,
// an expiry, an upload, an action's step) is taken by exactly one caller. On PostgreSQL the
// racing calls run on separate connections, so the conditional updates are what decides.
import t from 'tap';
import type { Store } from '../../server/storage/store.js';
import type { NewFault } from '../../server/storage/repositories/faults.js';
import { draftPlan } from '../../server/services/plans.js';
import { forEachStore } from '../helpers/database.js';

const now = new Date('2026-12-01T10:00:00.000Z');
const later = (minutes: number) => new Date(now.getTime() + minutes * 60_000);

async function world(store: Store) {
  await store.products.create({ id: 'emu', name: 'EMU' }, now);
  await store.customers.create({ id: 'acme', name: 'Acme', timezone: 'Europe/Madrid' }, now);
  await store.customers.create({ id: 'beta', name: 'Beta', timezone: 'UTC' }, now);
  await store.devices.create({ id: 'emu-1', customer: 'acme', product: 'emu', hardware: 'hw', version: '1.0.0' }, now);
  await store.devices.create({ id: 'emu-2', customer: 'acme', product: 'emu', hardware: 'hw', version: '1.0.0' }, now);
  for (const id of ['plan-1', 'plan-2']) {
    await store.plans.insert(
      draftPlan(
        {
          id,
          kind: 'upgrade',
          customer: 'acme',
          release: null,
          windows: [],
          waves: [],
          seed: id,
          deadline: later(60 * 24),
          notes: '',
          details: null,
          maxConcurrent: null,
          expectedInstallSeconds: 900,
          createdBy: 'sam',
        },
        now,
      ),
    );
  }
}

const fault = (overrides: Partial<NewFault> = {}): NewFault => ({
  customer: 'acme',
  device: null,
  plan: null,
  class: 'C',
  severity: 'general',
  title: 'Meter drift',
  description: '',
  source: 'customer',
  reportedBy: 'user:ana',
  reportedAt: now,
  ...overrides,
});

const tally = (results: boolean[]) => results.filter(Boolean).length;

forEachStore(t, 'faults: numbered from F-1001 even when reported at once, read back whole, filtered', async (t, store) => {
  await world(store);
  const first = await store.faults.insert(fault({ device: 'emu-1', reportedAt: later(0) }));
  t.same(
    first,
    {
      id: 'F-1001',
      seq: 1001,
      customer: 'acme',
      device: 'emu-1',
      plan: null,
      class: 'C',
      severity: 'general',
      title: 'Meter drift',
      description: '',
      status: 'open',
      source: 'customer',
      reportedBy: 'user:ana',
      reportedAt: now,
      acknowledgedBy: null,
      acknowledgedAt: null,
      fixRelease: null,
      fixAvailableAt: null,
      resolvedBy: null,
      resolvedAt: null,
      resolution: null,
      closedAt: null,
    },
    'a domain object: Dates, numbers, camelCase',
  );
  const together = await Promise.all(
    Array.from({ length: 8 }, (_, index) => store.faults.insert(fault({ class: index % 2 ? 'A' : 'B', reportedAt: later(index + 1) }))),
  );
  t.same(
    together.map((created) => created!.id).sort(),
    Array.from({ length: 8 }, (_, index) => `F-${1002 + index}`),
    'distinct, consecutive numbers',
  );
  await store.faults.insert(fault({ customer: 'beta', reportedAt: later(30) }));

  t.equal((await store.faults.list()).length, 10);
  t.same(
    (await store.faults.list({ limit: 2 })).map((found) => found.id),
    ['F-1010', 'F-1009'],
    'newest first',
  );
  t.equal((await store.faults.list({ customer: 'beta' })).length, 1);
  t.equal((await store.faults.list({ customer: 'acme', class: 'A' })).length, 4);
  t.same(
    (await store.faults.list({ reportedFrom: later(1), reportedBefore: later(3) })).map((found) => found.reportedAt),
    [later(2), later(1)],
    'from inclusive, before exclusive',
  );

  t.ok(await store.faults.transition('F-1001', 'open', 'acknowledged', { acknowledgedBy: 'sam', acknowledgedAt: later(5) }));
  t.notOk(
    await store.faults.transition('F-1001', 'open', 'acknowledged', { acknowledgedBy: 'eve', acknowledgedAt: later(6) }),
    'a step from a status it no longer has',
  );
  t.match(await store.faults.get('F-1001'), { status: 'acknowledged', acknowledgedBy: 'sam', acknowledgedAt: later(5) });
  t.ok(await store.faults.transition('F-1001', 'acknowledged', 'closed', { closedAt: later(9) }));
  t.equal((await store.faults.list({ unclosed: true })).length, 9);
  t.equal(await store.faults.countUnresolved(), 9);
  t.equal(await store.faults.get('F-0'), undefined);
});

forEachStore(t, 'faults: concurrent steps change a fault once; one agent fault per failed update', async (t, store) => {
  await world(store);
  await store.faults.insert(fault());
  const steps = await Promise.all(
    Array.from({ length: 6 }, (_, index) =>
      store.faults.transition('F-1001', 'open', 'acknowledged', { acknowledgedBy: `sam-${index}`, acknowledgedAt: later(index) }),
    ),
  );
  t.equal(tally(steps), 1, 'one of six changed it');

  const agent = fault({ device: 'emu-1', plan: 'plan-1', source: 'agent', reportedBy: 'device:emu-1' });
  const agents = await Promise.all([store.faults.insert(agent), store.faults.insert(agent), store.faults.insert(agent)]);
  t.equal(agents.filter((created) => created !== null).length, 1, 'one opened, the others found it');
  t.ok(await store.faults.agentFaultExists('emu-1', 'plan-1'));
  t.notOk(await store.faults.agentFaultExists('emu-1', 'plan-2'));
  t.not(await store.faults.insert({ ...agent, plan: 'plan-2' }), null, 'another plan is another failed update');
  t.not(await store.faults.insert({ ...agent, source: 'customer' }), null, 'a customer may still report it');
});

forEachStore(t, 'support sessions: decided, expired and uploaded once each, read back whole', async (t, store) => {
  await world(store);
  await store.supportSessions.insert({
    id: 's-1',
    device: 'emu-1',
    customer: 'acme',
    reason: 'Drift',
    collect: ['logs', 'system'],
    requestedBy: 'user:sam',
    requestedAt: now,
  });
  await store.supportSessions.insert({
    id: 's-2',
    device: 'emu-1',
    customer: 'acme',
    reason: 'Later',
    collect: ['journal'],
    requestedBy: 'user:sam',
    requestedAt: later(1),
  });
  t.same(await store.supportSessions.get('s-1'), {
    id: 's-1',
    device: 'emu-1',
    customer: 'acme',
    reason: 'Drift',
    collect: ['logs', 'system'],
    status: 'requested',
    requestedBy: 'user:sam',
    requestedAt: now,
    decidedBy: null,
    decidedAt: null,
    expiresAt: null,
    withdrawnAt: null,
    uploadedAt: null,
    bundle: null,
  });
  t.same(
    (await store.supportSessions.list({ customer: 'acme' })).map((session) => session.id),
    ['s-2', 's-1'],
    'newest first',
  );
  t.same(await store.supportSessions.list({ customer: 'beta' }), []);

  const consents = await Promise.all(
    Array.from({ length: 4 }, (_, index) =>
      store.supportSessions.decide('s-1', 'requested', {
        status: 'consented',
        decidedBy: `ana-${index}`,
        decidedAt: now,
        expiresAt: later(60),
      }),
    ),
  );
  t.equal(tally(consents), 1, 'consented once');
  t.same(
    (await store.supportSessions.consentedOfDevice('emu-1')).map((session) => session.id),
    ['s-1'],
  );
  t.notOk(await store.supportSessions.markExpired('s-1', later(59)), 'not before its expiry');

  const bundle = { sha256: 'b'.repeat(64), size: 5 * 1024 ** 3 };
  const uploads = await Promise.all([
    store.supportSessions.markUploaded('s-1', bundle, later(10)),
    store.supportSessions.markUploaded('s-1', bundle, later(10)),
  ]);
  t.equal(tally(uploads), 1, 'one bundle');
  t.match(await store.supportSessions.get('s-1'), { status: 'uploaded', uploadedAt: later(10), bundle });

  await store.supportSessions.decide('s-2', 'requested', { status: 'consented', decidedBy: 'ana', decidedAt: now, expiresAt: later(60) });
  t.notOk(await store.supportSessions.markUploaded('s-2', bundle, later(60)), 'no upload once the consent lapsed');
  const expiries = await Promise.all(Array.from({ length: 4 }, () => store.supportSessions.markExpired('s-2', later(60))));
  t.equal(tally(expiries), 1, 'the expiry is recorded once');
  t.equal((await store.supportSessions.get('s-2'))!.status, 'expired');
  t.same(await store.supportSessions.consentedOfDevice('emu-1'), []);

  await store.supportSessions.insert({
    id: 's-3',
    device: 'emu-2',
    customer: 'acme',
    reason: 'x',
    collect: ['logs'],
    requestedBy: 'user:sam',
    requestedAt: now,
  });
  await store.supportSessions.decide('s-3', 'requested', { status: 'consented', decidedBy: 'ana', decidedAt: now, expiresAt: later(60) });
  t.ok(await store.supportSessions.decide('s-3', 'consented', { status: 'withdrawn', withdrawnAt: later(5) }));
  t.match(await store.supportSessions.get('s-3'), { status: 'withdrawn', withdrawnAt: later(5), decidedBy: 'ana' });
});

forEachStore(t, 'DDI: one live action per plan and device however many open it, steps taken once', async (t, store) => {
  await world(store);
  const opened = await Promise.all(Array.from({ length: 5 }, () => store.ddi.openAction('plan-1', 'emu-1', now)));
  t.equal(new Set(opened.map((action) => action.id)).size, 1, 'one action');
  const action = opened[0];
  t.same(action, { id: action.id, plan: 'plan-1', device: 'emu-1', status: 'open', lastUpdate: null, createdAt: now, closedAt: null });
  t.type(action.id, 'number');
  const other = await store.ddi.openAction('plan-2', 'emu-1', later(1));
  t.not(other.id, action.id, 'another plan, another action');
  t.equal((await store.ddi.liveActionOf('emu-1'))!.id, other.id, 'the newest live action');
  t.equal(await store.ddi.liveActionOf('emu-2'), undefined);

  await store.ddi.rememberHandling(action.id, 'skip');
  t.equal((await store.ddi.action(action.id))!.lastUpdate, 'skip');
  const closes = await Promise.all(Array.from({ length: 3 }, () => store.ddi.moveAction(action.id, 'open', 'closed', later(2))));
  t.equal(tally(closes), 1, 'closed once');
  t.match(await store.ddi.action(action.id), { status: 'closed', closedAt: later(2) });
  t.not((await store.ddi.openAction('plan-1', 'emu-1', later(3))).id, action.id, 'a closed action leaves room for a new one');
  t.ok(await store.ddi.moveAction(other.id, 'open', 'canceling', later(4)));
  t.equal((await store.ddi.action(other.id))!.closedAt, null, 'canceling is not closed');
  t.equal(await store.ddi.action(999_999), undefined);
});

forEachStore(
  t,
  'DDI: gateway tokens by hash, for one customer, rotated in place, until revoked once; configuration data per device',
  async (t, store) => {
    await world(store);
    await store.ddi.insertGatewayToken({
      id: 'g-1',
      hash: 'h'.repeat(64),
      tenant: 'DEFAULT',
      customer: 'acme',
      createdBy: 'user:sam',
      createdAt: now,
    });
    await store.ddi.insertGatewayToken({
      id: 'g-2',
      hash: 'b'.repeat(64),
      tenant: 'DEFAULT',
      customer: 'beta',
      createdBy: 'user:sam',
      createdAt: later(1),
    });
    t.same(await store.ddi.gatewayToken('h'.repeat(64)), { tenant: 'DEFAULT', customer: 'acme' });
    t.equal(await store.ddi.gatewayToken('x'.repeat(64)), undefined);
    t.same(
      (await store.ddi.gatewayTokens({ customer: 'beta' })).map((token) => token.id),
      ['g-2'],
      'listed per customer',
    );
    t.match(await store.ddi.gatewayTokenById('g-1'), {
      id: 'g-1',
      customer: 'acme',
      createdBy: 'user:sam',
      createdAt: now,
      revokedAt: null,
    });
    t.notMatch(JSON.stringify(await store.ddi.gatewayTokens()), /h{64}/, 'never the hash');
    t.ok(await store.ddi.replaceGatewayTokenHash('g-2', 'c'.repeat(64)), 'rotated');
    t.equal(await store.ddi.gatewayToken('b'.repeat(64)), undefined, 'the old secret is gone');
    t.same(await store.ddi.gatewayToken('c'.repeat(64)), { tenant: 'DEFAULT', customer: 'beta' }, 'the new one acts for the same customer');
    t.same(
      await Promise.all([store.ddi.revokeGatewayToken('g-1', later(1)), store.ddi.revokeGatewayToken('g-1', later(1))]).then((results) =>
        tally(results),
      ),
      1,
      'revoked once',
    );
    t.equal(await store.ddi.gatewayToken('h'.repeat(64)), undefined, 'a revoked token names no tenant');
    t.notOk(await store.ddi.replaceGatewayTokenHash('g-1', 'd'.repeat(64)), 'a revoked token is not rotated');
    t.notOk(await store.ddi.revokeGatewayToken('g-missing', later(1)));

    t.equal(await store.ddi.configData('emu-1'), undefined);
    await store.ddi.saveConfigData('emu-1', { site: 'north' }, now);
    await store.ddi.saveConfigData('emu-1', { site: 'south', rack: '4' }, later(1));
    t.same(await store.ddi.configData('emu-1'), { site: 'south', rack: '4' }, 'the last write wins');
    t.same(await store.transaction((tx) => tx.ddi.configDataForUpdate('emu-1')), { site: 'south', rack: '4' });
    t.equal(await store.ddi.configData('emu-2'), undefined);
  },
);
