// Bad input, Range headers (issue #8) on every way an artifact leaves the server: GET and HEAD
// of /api/v1/releases/:id/artifact (as staff and as the assigned device) and the DDI download.
// RFC 9110 §14 is the oracle, with the server's documented choices where the RFC lets it
// choose (server/http/ranges.ts): one satisfiable range → 206 with exactly those bytes (a last
// position past the end, however many digits, is clamped); a range wholly past the end or
// reversed → 416 with Content-Range "bytes */size"; several ranges, or a header that does not
// parse → 200 and the whole artifact. Never a 5xx.
import t from 'tap';
import fc from 'fast-check';
import { fuzzWorld, fuzzOptions, tenant, type FuzzWorld } from './support/world.js';

type Expected = { status: 200 } | { status: 206; start: number; end: number } | { status: 416 };

const digits = (limit: number) =>
  fc.oneof(fc.nat({ max: limit }), fc.constantFrom(0, limit - 1, limit, limit + 1, 2 ** 53, Number.MAX_SAFE_INTEGER)).map(String);
const hugeDigits = fc.constantFrom('99999999999999999999999', '1'.repeat(400), '18446744073709551616', '00000000000000000000001');

/** Range headers: well-formed single ranges, and every way to get one wrong. */
function rangeHeader(size: number): fc.Arbitrary<string> {
  const position = fc.oneof({ weight: 4, arbitrary: digits(size + 10) }, { weight: 1, arbitrary: hugeDigits });
  const single = fc.oneof(
    fc.tuple(position, position).map(([first, last]) => `${first}-${last}`),
    position.map((first) => `${first}-`),
    position.map((last) => `-${last}`),
  );
  return fc.oneof(
    { weight: 6, arbitrary: single.map((range) => `bytes=${range}`) },
    { weight: 2, arbitrary: fc.array(single, { minLength: 2, maxLength: 5 }).map((ranges) => `bytes=${ranges.join(',')}`) },
    { weight: 2, arbitrary: fc.tuple(position, position).map(([first, last]) => `bytes=-${first}-${last}`) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'bytes=',
        'bytes=-',
        'bytes=--1',
        'bytes=-0',
        'bytes=0--1',
        'bytes=1-0',
        'bytes=a-b',
        'bytes=0x10-',
        'bytes=1e3-',
        'bytes=+1-2',
        'bytes=1.5-2',
        'bytes = 0-1',
        'bytes=0-1 ',
        ' bytes=0-1',
        'BYTES=0-1',
        'items=0-1',
        'bytes=0-1;x',
        'bytes=,0-1',
        'bytes=0-1,',
        'bytes=\u00000-1',
        'bytes=٠-١',
        '',
        ' ',
        '=',
        'bytes',
        `bytes=${'0-1,'.repeat(2000)}0-1`,
      ),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((text) => `bytes=${text}`) },
  );
}

/** RFC 9110 §14.1.2 read strictly, with the server's choices for what the RFC leaves open. */
function expected(header: string, size: number): Expected {
  const specs = /^bytes=(.*)$/i.exec(header.trim())?.[1].split(',');
  if (!specs || specs.length !== 1) return { status: 200 };
  const spec = /^(\d*)-(\d*)$/.exec(specs[0]);
  if (!spec || (spec[1] === '' && spec[2] === '')) return { status: 200 };
  const [first, last] = [spec[1] === '' ? null : BigInt(spec[1]), spec[2] === '' ? null : BigInt(spec[2])];
  const total = BigInt(size);
  if (first === null) {
    const suffix = last!;
    return suffix === 0n ? { status: 416 } : { status: 206, start: Number(total > suffix ? total - suffix : 0n), end: size - 1 };
  }
  // A reversed range is invalid (§14.1.1); the server answers it 416, as §15.5.17 allows.
  if (last !== null && last < first) return { status: 416 };
  if (first >= total) return { status: 416 };
  return { status: 206, start: Number(first), end: Number(last === null || last >= total ? total - 1n : last) };
}

interface Door {
  name: string;
  method: 'GET' | 'HEAD';
  url: string;
  authorization: string;
}

function doors(world: FuzzWorld): Door[] {
  const release = `/api/v1/releases/${world.releaseId}/artifact`;
  const ddi = `/${tenant}/controller/v1/emu-1/softwaremodules/${world.releaseId}/artifacts/emu-2.0.0.bin`;
  return (['GET', 'HEAD'] as const).flatMap((method) => [
    { name: `${method} release as staff`, method, url: release, authorization: `Bearer ${world.fleet.tokens.support}` },
    { name: `${method} release as device`, method, url: release, authorization: `Bearer ${world.deviceToken}` },
    { name: `${method} DDI download`, method, url: ddi, authorization: `TargetToken ${world.deviceToken}` },
  ]);
}

t.test('Range headers: negative, reversed, multiple, huge and garbage; answers follow RFC 9110, never a 5xx', async (t) => {
  const world = await fuzzWorld(t);
  const size = world.artifact.length;
  const statuses = new Map<string, number>();
  for (const door of doors(world)) {
    await fc.assert(
      fc.asyncProperty(rangeHeader(size), async (range) => {
        const outcome = await world.exchange({ method: door.method, url: door.url, headers: { authorization: door.authorization, range } });
        const want = expected(range, size);
        const problems: string[] = [];
        if (outcome.status !== want.status) problems.push(`status ${outcome.status}, RFC 9110 wants ${want.status}`);
        const body = door.method === 'HEAD' ? null : outcome.bytes;
        if (want.status === 206 && outcome.status === 206) {
          if (outcome.headers['content-range'] !== `bytes ${want.start}-${want.end}/${size}`)
            problems.push(`Content-Range ${outcome.headers['content-range']}`);
          if (Number(outcome.headers['content-length']) !== want.end - want.start + 1)
            problems.push(`Content-Length ${outcome.headers['content-length']}`);
        }
        if (want.status === 416 && outcome.status === 416 && outcome.headers['content-range'] !== `bytes */${size}`)
          problems.push(`416 without Content-Range "bytes */${size}" (got ${outcome.headers['content-range']})`);
        if (want.status === 200 && outcome.status === 200 && Number(outcome.headers['content-length']) !== size)
          problems.push(`Content-Length ${outcome.headers['content-length']}`);
        statuses.set(`${outcome.status}`, (statuses.get(`${outcome.status}`) ?? 0) + 1);
        if (problems.length > 0) throw new Error(`${door.name} Range: ${JSON.stringify(range.slice(0, 80))}: ${problems.join('; ')}`);
        if (body && want.status === 206 && !body.equals(world.artifact.subarray(want.start, want.end + 1)))
          throw new Error(`${door.name}: 206 for ${JSON.stringify(range)} carries other bytes`);
        if (body && want.status === 200 && !body.equals(world.artifact))
          throw new Error(`${door.name}: 200 for ${JSON.stringify(range)} is not the whole artifact`);
      }),
      fuzzOptions(80),
    );
  }
  t.comment(
    `answers by status: ${[...statuses]
      .sort()
      .map(([status, count]) => `${status}×${count}`)
      .join(' ')}`,
  );
});

// Regressions found by the property above: a 416 without Content-Range, a last position of
// more than 15 digits refused instead of clamped, and the unit "BYTES" ignored.
t.test('Range regressions: 416 names the length; huge last positions are clamped; the unit is case-insensitive', async (t) => {
  const world = await fuzzWorld(t);
  const size = world.artifact.length;
  const get = (range: string) =>
    world.exchange({
      method: 'GET',
      url: `/api/v1/releases/${world.releaseId}/artifact`,
      headers: { authorization: `Bearer ${world.fleet.tokens.support}`, range },
    });
  const past = await get(`bytes=${size}-`);
  t.equal(past.status, 416);
  t.equal(past.headers['content-range'], `bytes */${size}`);
  const huge = await get(`bytes=10-${'9'.repeat(30)}`);
  t.equal(huge.status, 206);
  t.equal(huge.headers['content-range'], `bytes 10-${size - 1}/${size}`);
  t.ok(huge.bytes.equals(world.artifact.subarray(10)));
  const padded = await get(`bytes=${'0'.repeat(20)}7-${'0'.repeat(20)}9`);
  t.equal(padded.headers['content-range'], `bytes 7-9/${size}`);
  const upper = await get('BYTES=0-1');
  t.equal(upper.status, 206);
});
