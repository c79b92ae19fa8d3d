// The cost of answering one check-in of a device that is in a live plan (assignment, window,
// waves, manifest, signature), measured in-process without HTTP, for plans of several sizes.
// Not a row of `npm run bench` (whose check-in rows measure a fleet with nothing to do, over
// HTTP); this is how the in-plan path was found to grow with the plan and then fixed.
// `node --import tsx bench/checkin-in-plan.ts`; PLAN_SIZES (default 100,10000).
import { confirmedPlanScenario } from '../test/helpers/scenario.js';
import { getDevice } from '../server/storage/identity.js';
import { answerCheckin } from '../server/services/checkin.js';

const sizes = (process.env.PLAN_SIZES ?? '100,10000').split(',').map(Number);
const answers = 5000;

for (const size of sizes) {
  const teardowns: (() => unknown)[] = [];
  // Inside the confirmed window, with the plan capped at 50 concurrent installs and 10 devices
  // installing, so that every step of the decision runs.
  const scenario = await confirmedPlanScenario({ teardown: (fn: () => unknown) => teardowns.push(fn) } as never, { secondsBeforeWindow: -60 });
  const { db } = scenario.server.app.sluice;
  const context = scenario.server.app.sluice;
  db.prepare('UPDATE plans SET max_concurrent = 50 WHERE id = ?').run(scenario.planId);
  const created = new Date().toISOString();
  db.transaction(() => {
    for (let index = 1; index < size; index++) {
      db.prepare("INSERT INTO devices (id, customer, product, hardware, version, created_at) VALUES (?, 'acme', 'emu', 'emu-hw-1', '1.0.0', ?)").run(`other-${index}`, created);
      db.prepare('INSERT INTO plan_devices (plan, device, wave, state, joined_at) VALUES (?, ?, 0, ?, ?)').run(scenario.planId, `other-${index}`, index <= 10 ? 'installing' : 'staged', created);
    }
  })();
  const answer = () => answerCheckin(context, getDevice(db, 'emu-0001')!, { version: '1.0.0', nonce: 'ab'.repeat(16) }, scenario.serverNow());
  if (!JSON.parse(await answer()).signed.assignment) throw new Error('the device has no assignment: the scenario did not set up a live plan');
  for (let index = 0; index < answers / 5; index++) await answer();
  const started = process.hrtime.bigint();
  for (let index = 0; index < answers; index++) await answer();
  const microseconds = Number(process.hrtime.bigint() - started) / answers / 1000;
  console.log(`plan of ${size} devices: ${microseconds.toFixed(0)} µs per check-in answer (${(1e6 / microseconds).toFixed(0)}/s on one core)`);
  for (const teardown of teardowns.reverse()) await teardown();
}
process.exit(0);
