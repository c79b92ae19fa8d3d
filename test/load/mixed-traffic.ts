// The load generator of the load test: a fixed number of workers over one undici Pool (one
// connection each, so the count of connections is bounded), each doing, until a deadline,
// what a fleet does: signed check-ins (the answer verified as the agent verifies it), event
// reports (each acknowledged id kept, to be read back) and artifact downloads, whole (sha256
// checked) or a Range (bytes checked against the artifact). Any answer that is not the
// expected 2xx, any transport error and any answer that does not verify counts as an error.
import { randomBytes } from 'node:crypto';
import type { Pool } from 'undici';
import { verifyCheckinAnswer } from '../../client/protocol.js';
import type { TrustStore } from '../../signing/trust-store.js';
import { sha256 } from '../helpers/server.js';

export interface LoadDevice {
  id: string;
  token: string;
}

export interface MixedLoadInput {
  pool: Pool;
  devices: LoadDevice[];
  release: { id: string; artifact: Buffer; sha256: string };
  plan: string;
  trust: TrustStore;
  workers: number;
  until: number;
  /** A device's history shows its last 100 events; no device is sent more, so all can be read back. */
  eventsPerDevice: number;
  /** Shared across runs so that event ids stay unique. */
  ledger: EventLedger;
}

/** Counts of verified answers by kind; `failures` counts the rest, `errors` shows the first few. */
export interface LoadStats {
  checkins: number;
  events: number;
  downloads: number;
  ranges: number;
  failures: number;
  errors: string[];
}

export class EventLedger {
  readonly acknowledged = new Map<string, string[]>();
  private readonly sent = new Map<string, number>();
  private next = 0;

  /** The next event id for `device`, or null when the device has had its share. */
  take(device: string, limit: number): string | null {
    const count = this.sent.get(device) ?? 0;
    if (count >= limit) return null;
    this.sent.set(device, count + 1);
    this.next += 1;
    return `load-event-${this.next}`;
  }

  acknowledge(device: string, eventId: string): void {
    const list = this.acknowledged.get(device) ?? [];
    list.push(eventId);
    this.acknowledged.set(device, list);
  }

  get total(): number {
    return [...this.acknowledged.values()].reduce((sum, ids) => sum + ids.length, 0);
  }
}

const timeouts = { headersTimeout: 30_000, bodyTimeout: 30_000 };

export async function runMixedLoad(input: MixedLoadInput): Promise<LoadStats> {
  const stats: LoadStats = { checkins: 0, events: 0, downloads: 0, ranges: 0, failures: 0, errors: [] };
  const operations = [checkin, report, download, checkin, report, range];
  const worker = async (lane: number) => {
    for (let step = lane; Date.now() < input.until; step += 1) {
      const device = input.devices[(step * 7919 + lane) % input.devices.length];
      const operation = operations[step % operations.length];
      try {
        await operation(input, device, stats);
      } catch (error) {
        stats.failures += 1;
        if (stats.errors.length < 20) stats.errors.push(`${operation.name} ${device.id}: ${(error as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: input.workers }, (_, lane) => worker(lane)));
  return stats;
}

function headers(device: LoadDevice, json = false) {
  return { authorization: `Bearer ${device.token}`, ...(json ? { 'content-type': 'application/json' } : {}) };
}

async function checkin(input: MixedLoadInput, device: LoadDevice, stats: LoadStats) {
  const nonce = randomBytes(16).toString('hex');
  const response = await input.pool.request({
    path: '/api/v1/device/checkin',
    method: 'POST',
    headers: headers(device, true),
    body: JSON.stringify({ version: '1.0.0', nonce, state: 'downloading', assignment: input.plan }),
    ...timeouts,
  });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`check-in ${response.statusCode} ${text.slice(0, 200)}`);
  const answer = verifyCheckinAnswer(JSON.parse(text), input.trust, nonce, device.id, new Date());
  if (answer.assignment?.release !== input.release.id) throw new Error("the check-in answer lost the device's assignment");
  stats.checkins += 1;
}

async function report(input: MixedLoadInput, device: LoadDevice, stats: LoadStats) {
  const eventId = input.ledger.take(device.id, input.eventsPerDevice);
  if (!eventId) return checkin(input, device, stats);
  const response = await input.pool.request({
    path: '/api/v1/device/events',
    method: 'POST',
    headers: headers(device, true),
    body: JSON.stringify({ assignment: input.plan, state: 'downloading', progress: 0.5, detail: eventId, eventId }),
    ...timeouts,
  });
  const text = await response.body.text();
  if (response.statusCode !== 204) throw new Error(`event ${response.statusCode} ${text.slice(0, 200)}`);
  input.ledger.acknowledge(device.id, eventId);
  stats.events += 1;
}

async function download(input: MixedLoadInput, device: LoadDevice, stats: LoadStats) {
  const response = await input.pool.request({
    path: `/api/v1/releases/${input.release.id}/artifact`,
    method: 'GET',
    headers: headers(device),
    ...timeouts,
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode !== 200) throw new Error(`download ${response.statusCode} ${bytes.subarray(0, 200).toString()}`);
  if (sha256(bytes) !== input.release.sha256) throw new Error('the downloaded artifact does not match its sha256');
  stats.downloads += 1;
}

/** A resumed download: a Range somewhere in the artifact, as the agent asks after an interruption. */
async function range(input: MixedLoadInput, device: LoadDevice, stats: LoadStats) {
  const size = input.release.artifact.length;
  const start = Math.floor(Math.random() * (size - 1));
  const end = Math.min(size - 1, start + Math.floor(Math.random() * 64 * 1024));
  const response = await input.pool.request({
    path: `/api/v1/releases/${input.release.id}/artifact`,
    method: 'GET',
    headers: { ...headers(device), range: `bytes=${start}-${end}` },
    ...timeouts,
  });
  const bytes = Buffer.from(await response.body.arrayBuffer());
  if (response.statusCode !== 206) throw new Error(`range ${response.statusCode} ${bytes.subarray(0, 200).toString()}`);
  if (!bytes.equals(input.release.artifact.subarray(start, end + 1))) throw new Error(`bytes ${start}-${end} differ from the artifact's`);
  stats.ranges += 1;
}
