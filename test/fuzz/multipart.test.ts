// Bad input, multipart (issue #8): release uploads and diagnostics bundles with parts in odd
// orders, duplicated or unknown, traversal file names, huge fields, and framing broken on
// purpose (no boundary, a garbled one, a body cut short). No 5xx, a catalogued error body, and
// a refused upload leaves no row, no stored file and no temporary file behind.
import t from 'tap';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { fuzzWorld, fuzzOptions, type FuzzWorld } from './support/world.js';
import { signedManifest } from '../helpers/server.js';
import { hostileStrings } from './support/hostile-values.js';

type PartKind = 'manifest' | 'bad-manifest' | 'artifact' | 'wrong-artifact' | 'bundle' | 'field' | 'huge-field' | 'headerless';
interface PartPlan {
  kind: PartKind;
  name: string | null;
  filename: string | null;
  json: boolean;
}
type Framing =
  | { kind: 'intact' }
  | { kind: 'truncate'; at: number }
  | { kind: 'no-boundary' }
  | { kind: 'other-boundary' }
  | { kind: 'long-boundary' }
  | { kind: 'bare-lf' }
  | { kind: 'no-closing' }
  | { kind: 'garbage-preamble' };

const traversalNames = [
  '../../x',
  '../../../../etc/passwd',
  '/etc/passwd',
  'C:\\Windows\\x',
  '..\\..\\x',
  'a\u0000b',
  '%2e%2e%2fx',
  'x'.repeat(5000),
  '',
  '.',
  '..',
  'image.bin',
];
const partPlan: fc.Arbitrary<PartPlan> = fc.record({
  kind: fc.constantFrom<PartKind>('manifest', 'bad-manifest', 'artifact', 'wrong-artifact', 'bundle', 'field', 'huge-field', 'headerless'),
  name: fc.option(
    fc.oneof(
      fc.constantFrom('manifest', 'artifact', 'bundle', '__proto__', 'constructor'),
      fc.constantFrom(...hostileStrings.slice(0, 20)),
    ),
    { nil: null, freq: 8 },
  ),
  filename: fc.option(fc.constantFrom(...traversalNames), { nil: null }),
  json: fc.boolean(),
});
const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 5, arbitrary: fc.constant({ kind: 'intact' as const }) },
  { weight: 3, arbitrary: fc.nat().map((at) => ({ kind: 'truncate' as const, at })) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Framing>(
      { kind: 'no-boundary' },
      { kind: 'other-boundary' },
      { kind: 'long-boundary' },
      { kind: 'bare-lf' },
      { kind: 'no-closing' },
      { kind: 'garbage-preamble' },
    ),
  },
);
/** Mostly the two parts in the right order, often in other orders, counts and shapes. */
const partPlans = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.constant<PartPlan[]>([
      { kind: 'manifest', name: 'manifest', filename: 'manifest.json', json: false },
      { kind: 'artifact', name: 'artifact', filename: 'image.bin', json: false },
    ]),
  },
  { weight: 5, arbitrary: fc.array(partPlan, { minLength: 0, maxLength: 5 }) },
);

const boundary = 'sluice-fuzz-boundary';

/** The body and Content-Type for a plan of parts, framed as asked. */
function multipart(plans: PartPlan[], contents: Record<PartKind, Buffer>, frame: Framing) {
  const chunks: Buffer[] = [];
  for (const plan of plans) {
    const headers =
      plan.kind === 'headerless'
        ? []
        : [
            `Content-Disposition: form-data${plan.name === null ? '' : `; name="${plan.name}"`}${plan.filename === null ? '' : `; filename="${plan.filename}"`}`,
            `Content-Type: ${plan.json ? 'application/json' : 'application/octet-stream'}`,
          ];
    chunks.push(
      Buffer.from(`--${boundary}\r\n${headers.map((line) => `${line}\r\n`).join('')}\r\n`),
      contents[plan.kind],
      Buffer.from('\r\n'),
    );
  }
  if (frame.kind !== 'no-closing') chunks.push(Buffer.from(`--${boundary}--\r\n`));
  if (frame.kind === 'garbage-preamble') chunks.unshift(Buffer.from(`--${boundary.slice(0, 5)}\r\n\r\n`));
  let payload = Buffer.concat(chunks);
  if (frame.kind === 'truncate') payload = payload.subarray(0, frame.at % (payload.length + 1));
  if (frame.kind === 'bare-lf') payload = Buffer.from(payload.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  const type =
    {
      'no-boundary': 'multipart/form-data',
      'other-boundary': 'multipart/form-data; boundary=another',
      'long-boundary': `multipart/form-data; boundary=${'b'.repeat(300)}`,
    }[frame.kind as string] ?? `multipart/form-data; boundary=${boundary}`;
  return { payload, type };
}

function contentsFor(world: FuzzWorld, version: string): Record<PartKind, Buffer> {
  const artifact = randomBytes(2048);
  const manifest = signedManifest(artifact, { product: 'emu', version }, [world.server.keys.release]);
  return {
    manifest: Buffer.from(JSON.stringify(manifest)),
    'bad-manifest': Buffer.from(JSON.stringify({ ...manifest, signed: { ...manifest.signed, version: '9.9.9' } })),
    artifact,
    'wrong-artifact': randomBytes(2049),
    bundle: randomBytes(512),
    field: Buffer.from('plain field'),
    'huge-field': Buffer.alloc(1024 * 1024 + 10, 0x61),
    headerless: Buffer.from('no headers at all'),
  };
}

t.test('release uploads: odd part orders, traversal names, broken framing; no 5xx, nothing stored when refused', async (t) => {
  const world = await fuzzWorld(t);
  let version = 100;
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(partPlans, framing, async (plans, frame) => {
      const { payload, type } = multipart(plans, contentsFor(world, `3.${version++}.0`), frame);
      const { status } = await world.exchange({
        method: 'POST',
        url: '/api/v1/releases',
        headers: { authorization: `Bearer ${world.fleet.tokens.release}`, 'content-type': type },
        payload,
      });
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
    fuzzOptions(250),
  );
  t.comment(
    `uploads by status: ${[...statuses]
      .sort()
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')}`,
  );
  t.ok(statuses.get(201), 'well-formed uploads still succeed');
});

t.test('diagnostics bundles: the same abuse, with live consent so the parser is reached', async (t) => {
  const world = await fuzzWorld(t);
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(fc.array(partPlan, { minLength: 0, maxLength: 4 }), framing, async (plans, frame) => {
      const { payload, type } = multipart(plans, contentsFor(world, '9.0.0'), frame);
      const route = world.server.app.routeTable.find((entry) => entry.url === '/api/v1/device/diagnostics/:id')!;
      const { status } = await world.exchange(
        {
          method: 'POST',
          url: world.pathFor(route.url),
          headers: { authorization: `Bearer ${world.deviceToken}`, 'content-type': type },
          payload,
        },
        route,
      );
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }),
    fuzzOptions(150),
  );
  t.comment(
    `bundles by status: ${[...statuses]
      .sort()
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')}`,
  );
});

// Regressions: each of these answered 500 before server/http/multipart.ts.
t.test('a multipart Content-Type without a usable boundary, or a body cut short, is a 400', async (t) => {
  const world = await fuzzWorld(t);
  const contents = contentsFor(world, '4.0.0');
  const plans: PartPlan[] = [
    { kind: 'manifest', name: 'manifest', filename: 'm.json', json: false },
    { kind: 'artifact', name: 'artifact', filename: 'a.bin', json: false },
  ];
  const cases: [string, Framing][] = [
    ['no boundary', { kind: 'no-boundary' }],
    ['boundary over 70 characters', { kind: 'long-boundary' }],
    ['cut inside the artifact', { kind: 'truncate', at: contents.manifest.length + 300 }],
    ['cut inside the manifest', { kind: 'truncate', at: 120 }],
  ];
  for (const [name, frame] of cases) {
    const { payload, type } = multipart(plans, contents, frame);
    for (const [url, token] of [
      ['/api/v1/releases', world.fleet.tokens.release],
      [`/api/v1/device/diagnostics/${world.ids.diagnostics}`, world.deviceToken],
    ]) {
      const outcome = await world.exchange({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        payload,
      });
      t.equal(outcome.status, 400, `${url}, ${name}: ${outcome.body}`);
    }
  }
});
