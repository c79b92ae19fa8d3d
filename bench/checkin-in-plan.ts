// The cost of answering one check-in of a device that is in a live plan (assignment, window,
// waves, manifest, signature), measured in-process without HTTP, for plans of several sizes.
// Not a row of `npm run bench` (whose check-in rows measure a fleet with nothing to do, over
// HTTP); this is how the in-plan path was found to grow with the plan and then fixed.
// `node --import tsx bench/checkin-in-plan.ts`; PLAN_SIZES (default 100,10000).
import { confirmedPlanScenario } from '../test/helpers/scenario.js';
import { answerCheckin } from '../server/services/checkin.js';
import { draftPlan } from '../server/services/plans.js';
import { assignWaves } from '../server/domain/waves.js';

const sizes = (process.env.PLAN_SIZES ?? '100,10000').split(',').map(Number);
const answers = 5000;

for (const size of sizes) {
  const teardowns: (() => unknown)[] = [];
  const scenario = await confirmedPlanScenario({ teardown: (fn: () => unknown) => teardowns.push(fn) } as never, {
    secondsBeforeWindow: -60,
  });
  const context = scenario.server.app.sluice;
  const { store } = context;
  // The scenario's plan gives way to one of `size` devices, capped at 50 concurrent installs
  // with 10 of them installing, so that every step of the decision runs, inside its window.
  const scenarioPlan = (await store.plans.get(scenario.planId))!;
  await store.plans.transition(scenarioPlan.id, scenarioPlan.status, 'cancelled', {}, new Date());
  const now = new Date();
  const others = await store.devices.createMany(
    Array.from({ length: size - 1 }, (_, index) => ({
      id: `other-${index + 1}`,
      customer: 'acme',
      product: 'emu',
      hardware: 'emu-hw-1',
      version: '1.0.0',
    })),
    now,
  );
  const members = ['emu-0001', ...others.map((device) => device.id)];
  const plan = draftPlan(
    {
      id: 'bench-plan',
      kind: 'upgrade',
      customer: 'acme',
      release: scenario.releaseId,
      windows: scenarioPlan.windows,
      waves: [],
      seed: 'bench',
      deadline: scenarioPlan.deadline,
      notes: '',
      details: null,
      maxConcurrent: 50,
      expectedInstallSeconds: 900,
      createdBy: 'bench',
    },
    now,
  );
  await store.transaction(async (tx) => {
    await tx.plans.insert(plan);
    await tx.plans.addDevices(plan.id, members, now);
    await tx.plans.drawWaves(plan.id, assignWaves(members, [], plan.seed), now);
    await tx.plans.transition(
      plan.id,
      'draft',
      'confirmed',
      { confirmedWindow: 0, confirmedBy: 'bench', confirmedAt: now, maintainer: { name: 'Bench', phone: '0' } },
      now,
    );
    for (const device of others)
      await tx.plans.setDeviceState(plan.id, device.id, Number(device.id.slice(6)) <= 10 ? 'installing' : 'staged', now);
  });
  // The device as its token lookup brings it (authentication's query, not measured here).
  const device = (await store.devices.get('emu-0001'))!;
  const answer = () => answerCheckin(context, device, { version: '1.0.0', nonce: 'ab'.repeat(16) }, scenario.serverNow());
  if (!JSON.parse(await answer()).signed.assignment)
    throw new Error('the device has no assignment: the scenario did not set up a live plan');
  for (let index = 0; index < answers / 5; index++) await answer();
  const started = process.hrtime.bigint();
  for (let index = 0; index < answers; index++) await answer();
  const microseconds = Number(process.hrtime.bigint() - started) / answers / 1000;
  console.log(
    `plan of ${size} devices: ${microseconds.toFixed(0)} µs per check-in answer (${(1e6 / microseconds).toFixed(0)}/s on one core)`,
  );
  for (const teardown of teardowns.reverse()) await teardown();
}
process.exit(0);
