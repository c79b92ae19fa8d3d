// Builds a real app on a temporary data directory (first-run bootstrap included) and offers
// small helpers to call it as each role.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, type KeyObject } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../server/app.js';
import type { ServerOptions } from '../../server/config.js';
import { loadPrivateKeyFile } from '../../signing/keys.js';
import { signDocument, type SignedDocument } from '../../signing/signed.js';
import { testServerDatabase } from './database.js';

export interface TestServer {
  app: FastifyInstance;
  dataDir: string;
  /** The PostgreSQL database the app runs on; undefined on SQLite (DIR/sluice.db). */
  databaseUrl: string | undefined;
  adminToken: string;
  keys: { root: KeyObject; release: KeyObject; server: KeyObject };
  call: (
    method: string,
    url: string,
    token?: string | null,
    body?: unknown,
  ) => Promise<{ status: number; json: any; body: string; headers: Record<string, any> }>;
  close: () => Promise<void>;
}

interface Teardown {
  teardown: (fn: () => unknown) => void;
}

/**
 * On SQLite (the default) the app keeps its database in the data directory; with
 * SLUICE_TEST_DATABASE=postgres it gets a fresh PostgreSQL database of its own, dropped at
 * teardown (helpers/database.ts). `options.databaseUrl` names one the test made itself.
 */
export async function startTestServer(t: Teardown, options: Partial<ServerOptions> = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const database = options.databaseUrl ? { url: options.databaseUrl, drop: async () => undefined } : await testServerDatabase();
  let app: FastifyInstance;
  try {
    app = await buildApp({ ...options, dataDir, databaseUrl: database.url });
  } catch (error) {
    void database.drop();
    throw error;
  }
  let closed = false;
  const close = async () => {
    if (!closed) {
      closed = true;
      await app.close();
    }
  };
  t.teardown(async () => {
    await close();
    void database.drop();
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const keysDir = join(dataDir, 'keys');
  const call: TestServer['call'] = async (method, url, token, body) => {
    const response = await app.inject({
      method: method as 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { payload: body as object }),
    });
    let json: unknown = null;
    try {
      json = response.json();
    } catch {
      /* not JSON */
    }
    return { status: response.statusCode, json, body: response.body, headers: response.headers };
  };
  return {
    app,
    dataDir,
    databaseUrl: database.url,
    adminToken: readFileSync(join(dataDir, 'admin.token'), 'utf8').trim(),
    keys: {
      root: loadPrivateKeyFile(join(keysDir, 'root.key')),
      release: loadPrivateKeyFile(join(keysDir, 'release.key')),
      server: loadPrivateKeyFile(join(keysDir, 'server.key')),
    },
    call,
    close,
  };
}

/** Creates a product, a customer and users of every role; returns their tokens. */
export async function seedFleet(server: TestServer, options: { product?: string; customer?: string; timezone?: string } = {}) {
  const product = options.product ?? 'emu';
  const customer = options.customer ?? 'acme';
  const admin = server.adminToken;
  const must = async (method: string, url: string, body: unknown, token = admin) => {
    const response = await server.call(method, url, token, body);
    if (response.status >= 300) throw new Error(`${method} ${url}: ${response.status} ${response.body}`);
    return response.json;
  };
  await must('POST', '/api/v1/products', { id: product, name: 'Energy management unit' });
  await must('POST', '/api/v1/customers', { id: customer, name: `${customer} Corp`, timezone: options.timezone ?? 'Europe/Madrid' });
  const user = async (username: string, role: string, extra: object = {}) =>
    (await must('POST', '/api/v1/users', { username, role, ...extra })).token as string;
  return {
    product,
    customer,
    tokens: {
      admin,
      release: await user(`release-${customer}`, 'release'),
      support: await user(`support-${customer}`, 'support'),
      customer: await user(`customer-${customer}`, 'customer', { customer }),
    },
    addDevice: async (id: string, extra: { customer?: string; version?: string; hardware?: string } = {}) =>
      (
        await must('POST', '/api/v1/devices', {
          id,
          customer: extra.customer ?? customer,
          product,
          hardware: extra.hardware ?? 'emu-hw-1',
          version: extra.version ?? '1.0.0',
        })
      ).token as string,
  };
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface ManifestFields {
  product: string;
  version: string;
  hardware?: string[];
  fixes?: string[];
  notes?: string;
  name?: string;
  downgrade?: boolean;
  expires?: string;
  minVersion?: string;
  replaces?: string;
}

/** A release manifest over `artifact`, signed by `keys` (the release key by default). */
export function signedManifest(artifact: Buffer, fields: ManifestFields, keys: KeyObject[]): SignedDocument<Record<string, unknown>> {
  return signDocument(
    {
      type: 'release',
      product: fields.product,
      version: fields.version,
      hardware: fields.hardware ?? ['emu-hw-1'],
      artifact: { name: fields.name ?? `${fields.product}-${fields.version}.bin`, size: artifact.length, sha256: sha256(artifact) },
      fixes: fields.fixes ?? [],
      notes: fields.notes ?? `Release ${fields.version}`,
      createdAt: '2026-11-01T00:00:00.000Z',
      ...(fields.expires ? { expires: fields.expires } : {}),
      ...(fields.downgrade ? { downgrade: true } : {}),
      ...(fields.minVersion ? { minVersion: fields.minVersion } : {}),
      ...(fields.replaces ? { replaces: fields.replaces } : {}),
    },
    keys,
  );
}

/** A multipart body with the given parts, in the given order. */
export function multipartBody(parts: { name: string; filename?: string; content: Buffer | string }[]) {
  const boundary = '----sluice-test-boundary';
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: application/octet-stream\r\n\r\n`));
    chunks.push(Buffer.isBuffer(part.content) ? part.content : Buffer.from(part.content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export async function uploadRelease(
  server: TestServer,
  token: string,
  manifest: unknown,
  artifact: Buffer,
  order: 'manifest-first' | 'artifact-first' = 'manifest-first',
) {
  const manifestPart = { name: 'manifest', filename: 'manifest.json', content: JSON.stringify(manifest) };
  const artifactPart = { name: 'artifact', filename: 'image.bin', content: artifact };
  const { payload, contentType } = multipartBody(order === 'manifest-first' ? [manifestPart, artifactPart] : [artifactPart, manifestPart]);
  const response = await server.app.inject({
    method: 'POST',
    url: '/api/v1/releases',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    payload,
  });
  return { status: response.statusCode, json: response.json() as any };
}

/** What a failed upload must leave behind: no release row, no stored or temporary file. */
export async function storedState(server: TestServer) {
  const { releases } = await server.app.sluice.store.inspection.rowCounts();
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
    );
  return { releases, artifacts: walk(join(server.dataDir, 'artifacts')).length, temporary: walk(join(server.dataDir, 'tmp')).length };
}
