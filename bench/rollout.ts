// A rollout ready to run, through a live server's API as an operator would make it: product,
// customer, users, a signed 64 KiB release published with the CLI, and a plan of the customer
// with one emergency window ("as soon as the customer consents"), proposed and confirmed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Agent, fetch } from 'undici';
import { sluiceScript } from './processes.js';

export async function confirmedRollout(options: { url: string; dataDir: string; work: string; admin: string; customer: string }) {
  const { url, dataDir, work, admin, customer: customerId } = options;
  // A connection each: the execFileSync calls below block this process past the server's
  // keep-alive timeout, and a kept-alive socket the server has closed meanwhile would be
  // picked for the next call before its close is seen ("fetch failed").
  const dispatcher = new Agent({ pipelining: 0 });
  const call = async (path: string, body: unknown, token = admin) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      dispatcher,
    });
    return response.json() as Promise<Record<string, any>>;
  };
  try {
    // Either may exist already (a seeded fleet): the conflict is harmless.
    await call('/api/v1/products', { id: 'emu', name: 'EMU' });
    await call('/api/v1/customers', { id: customerId, name: 'Simulated', timezone: 'Europe/Madrid' });
    const release = (await call('/api/v1/users', { username: 'r', role: 'release' })).token;
    const support = (await call('/api/v1/users', { username: 's', role: 'support' })).token;
    const customer = (await call('/api/v1/users', { username: 'c', role: 'customer', customer: customerId })).token;
    writeFileSync(join(work, 'image.bin'), randomBytes(64 * 1024));
    execFileSync(process.execPath, [
      sluiceScript,
      'release',
      'sign',
      join(work, 'image.bin'),
      '--key',
      join(dataDir, 'keys', 'release.key'),
      '--product',
      'emu',
      '--version',
      '2.0.0',
      '--hardware',
      'emu-hw-1',
      '--out',
      join(work, 'm.json'),
    ]);
    const published = JSON.parse(
      execFileSync(process.execPath, [
        sluiceScript,
        'release',
        'publish',
        join(work, 'image.bin'),
        '--manifest',
        join(work, 'm.json'),
        '--server',
        url,
        '--token',
        release,
      ]).toString(),
    );
    const plan = await call('/api/v1/plans', { customer: customerId, release: published.id, windows: [{ asap: true }] }, support);
    await call(`/api/v1/plans/${plan.id}/propose`, {}, support);
    await call(`/api/v1/plans/${plan.id}/confirm`, { window: 0, maintainer: { name: 'Bench', phone: '000' } }, customer);
    return { planId: plan.id as string, support: support as string };
  } finally {
    await dispatcher.close();
  }
}
