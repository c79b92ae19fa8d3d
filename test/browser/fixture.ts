// A listening server for the browser tests, its clock pinned near 1 December 2026 (09:00 UTC)
// and running on: a customer in Madrid with three devices, users of every role with
// passwords, and a class C fault that the published release fixes (so that the automatic
// draft, with its internal note, exists as it does in production).
import { randomBytes } from 'node:crypto';
import { startTestServer, seedFleet, signedManifest, uploadRelease, multipartBody } from '../helpers/server.js';

export const passwords = { support: 'support password 1', customer: 'customer password 1', release: 'release password 1' };

export async function browserFixture(t: Parameters<typeof startTestServer>[0]) {
  const offset = new Date('2026-12-01T09:00:00Z').getTime() - Date.now();
  const server = await startTestServer(t, { now: () => new Date(Date.now() + offset) });
  const base = await server.app.listen({ port: 0, host: '127.0.0.1' });
  const fleet = await seedFleet(server, { timezone: 'Europe/Madrid' });
  const admin = server.adminToken;
  const must = async (method: string, url: string, token: string, body?: unknown) => {
    const response = await server.call(method, url, token, body);
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${response.body}`);
    return response.json;
  };
  await must('POST', '/api/v1/users', admin, { username: 'sam@vendor', role: 'support', password: passwords.support });
  await must('POST', '/api/v1/users', admin, { username: 'ana@acme', role: 'customer', customer: 'acme', password: passwords.customer });
  await must('POST', '/api/v1/users', admin, { username: 'rita@vendor', role: 'release', password: passwords.release });
  const deviceTokens: Record<string, string> = {};
  for (const id of ['emu-0001', 'emu-0002', 'emu-0003']) deviceTokens[id] = await fleet.addDevice(id);
  const fault = await must('POST', '/api/v1/faults', fleet.tokens.customer, {
    class: 'C',
    title: 'Meter readings drift after a week',
    device: 'emu-0002',
  });
  const artifact = randomBytes(2048);
  const release = await uploadRelease(
    server,
    fleet.tokens.release,
    signedManifest(artifact, { product: 'emu', version: '2.1.0', fixes: [fault.id], notes: 'Fixes meter drift.' }, [server.keys.release]),
    artifact,
  );
  if (release.status !== 201) throw new Error(JSON.stringify(release.json));

  /** A device reporting the agent's states, in order, over HTTP (a simulated agent). */
  const report = async (device: string, plan: string, states: string[], detail?: string) => {
    for (const state of states) {
      const response = await fetch(`${base}/api/v1/device/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${deviceTokens[device]}`, 'content-type': 'application/json' },
        body: JSON.stringify({ assignment: plan, state, ...(detail ? { detail } : {}) }),
      });
      if (response.status !== 204) throw new Error(`${device} ${state}: ${response.status} ${await response.text()}`);
    }
  };
  /** The device's diagnostics upload for a support session. */
  const uploadBundle = async (device: string, session: string, content: Buffer) => {
    const { payload, contentType } = multipartBody([{ name: 'bundle', filename: 'bundle.json.gz', content }]);
    const response = await fetch(`${base}/api/v1/device/diagnostics/${session}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${deviceTokens[device]}`, 'content-type': contentType },
      body: payload,
    });
    return response.status;
  };
  return { server, base, fleet, fault, release: release.json as { id: string }, deviceTokens, report, uploadBundle };
}

export const agentStates = ['downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing', 'health_check', 'committed'];
