// Crash consistency of plan transitions (issue #8): the server killed with SIGKILL while plans
// go round their lifecycle (propose, which freezes a numbered document, and counter; pause
// and resume of a confirmed plan). Each transition writes the plan, its audit row and, for a
// proposal, the frozen document in one transaction, so after the kill each plan's status is
// the `to` of its last audited transition, every frozen document matches its proposal, every
// transition acknowledged with 2xx is in the audit log, and the restarted server carries on.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  apiClient,
  auditTrail,
  nightly,
  publishLive,
  readStopped,
  seedLiveFleet,
  soundnessCheck,
  startLiveServer,
  stoppedDatabaseProblems,
} from '../helpers/live-server.js';
import { waitFor } from '../helpers/agent.js';

const dataDir = mkdtempSync(join(tmpdir(), 'sluice-crash-plans-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

t.test('killed during a loop of plan transitions: plan, audit log and documents agree', async (t) => {
  let server = await startLiveServer(t, dataDir);
  let api = apiClient(server.url);
  const { tokens } = await seedLiveFleet(api, dataDir, 2);
  const release = await publishLive(api, dataDir, tokens.release, '2.0.0', randomBytes(64 * 1024));
  const createPlan = async () =>
    (await api.must('POST', '/api/v1/plans', tokens.support, { customer: 'acme', release, windows: [nightly] })).id as string;

  // One loop per plan, all at once, each strictly sequential: at most one transition per plan
  // is in flight when the kill comes. Three plans go propose/counter (a document frozen per
  // proposal), one confirmed plan goes pause/resume.
  const proposing = [await createPlan(), await createPlan(), await createPlan()];
  const paused = await createPlan();
  await api.must('POST', `/api/v1/plans/${paused}/propose`, tokens.support);
  await api.must('POST', `/api/v1/plans/${paused}/confirm`, tokens.customer, { window: 0, maintainer: { name: 'Ana', phone: '+34 600' } });
  const transitionsBefore = (plan: string) => (plan === paused ? 2 : 0);

  let running = true;
  const acknowledged = new Map<string, number>();
  const loop = async (plan: string, step: (index: number) => Promise<unknown>) => {
    for (let index = 0; running && index < 10_000; index += 1) {
      try {
        await step(index);
      } catch {
        return; /* the kill */
      }
      acknowledged.set(plan, (acknowledged.get(plan) ?? 0) + 1);
    }
  };
  const loops = [
    ...proposing.map((plan) =>
      loop(plan, (index) =>
        index % 2 === 0
          ? api.must('POST', `/api/v1/plans/${plan}/propose`, tokens.support)
          : api.must('POST', `/api/v1/plans/${plan}/counter`, tokens.customer, { windows: [nightly], comment: `later, please (${index})` }),
      ),
    ),
    loop(paused, (index) => api.must('POST', `/api/v1/plans/${paused}/${index % 2 === 0 ? 'pause' : 'resume'}`, tokens.support)),
  ];
  await waitFor(
    () => [...acknowledged.values()].reduce((sum, value) => sum + value, 0) >= 40,
    'transitions to be acknowledged',
    30_000,
    10,
  );
  await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 300)));
  await server.kill();
  running = false;
  await Promise.all(loops);
  t.comment(`transitions acknowledged before the kill: ${[...acknowledged.values()].join(', ')}`);

  t.same(await stoppedDatabaseProblems(t, dataDir), [], `${soundnessCheck} after the kill`);
  const plans = [...proposing, paused];
  // What the crash left, read through the repositories (either dialect): each plan, its audit
  // trail and its frozen documents, which the repository reads by number: 1, 2, … up to the
  // first missing one. The count of every stored document proves there are no others.
  const crashed = await readStopped(t, dataDir, async (store) => {
    const read = [];
    for (const plan of plans) {
      const documents: number[] = [];
      while (await store.plans.document(plan, documents.length + 1)) documents.push(documents.length + 1);
      read.push({
        plan,
        row: (await store.plans.get(plan))!,
        audit: (await auditTrail(store, `plan:${plan}`)).filter((entry) => entry.action !== 'plan.create'),
        documents,
      });
    }
    return { plans: read, documentsStored: (await store.inspection.rowCounts()).plan_documents };
  });
  t.equal(
    crashed.documentsStored,
    crashed.plans.reduce((sum, plan) => sum + plan.documents.length, 0),
    'every stored document is one of the numbered ones read',
  );
  for (const { plan, row, audit, documents } of crashed.plans) {
    const transitions = audit.length - transitionsBefore(plan);
    const acked = acknowledged.get(plan) ?? 0;
    t.ok(
      transitions >= acked && transitions <= acked + 1,
      `plan ${plan}: ${acked} acknowledged, ${transitions} audited (at most the one in flight more)`,
    );
    t.equal(row.status, audit[audit.length - 1].details?.to, `plan ${plan}: the status is the last audited transition's`);
    const proposals = audit.filter((entry) => entry.action === 'plan.propose').length;
    t.same(
      documents,
      Array.from({ length: proposals }, (_, index) => index + 1),
      `plan ${plan}: one frozen document per audited proposal`,
    );
    t.equal(row.documentVersion, proposals, `plan ${plan}: the plan names its last document`);
    if (plan === paused) t.equal(row.pausedFrom, row.status === 'paused' ? 'confirmed' : null, 'paused_from goes with the paused status');
  }

  server = await startLiveServer(t, dataDir);
  api = apiClient(server.url);
  for (const plan of plans) {
    const view = await api.must('GET', `/api/v1/plans/${plan}`, tokens.support);
    const action = { proposed: 'counter', countered: 'propose', confirmed: 'pause', paused: 'resume' }[view.status as string];
    t.ok(action, `plan ${plan} is in a state of its loop (${view.status})`);
    const body = action === 'counter' ? { windows: [nightly], comment: 'after the restart' } : undefined;
    const response = await api.call(
      'POST',
      `/api/v1/plans/${plan}/${action}`,
      action === 'counter' ? tokens.customer : tokens.support,
      body,
    );
    t.equal(response.status, 200, `plan ${plan}: the lifecycle carries on after the restart (${action})`);
  }
  await server.stop();
  t.same(await stoppedDatabaseProblems(t, dataDir), [], `${soundnessCheck} after the restart`);
});
