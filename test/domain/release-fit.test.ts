// The one rule for which devices a release may go to (server/domain/release-fit.ts), as a
// table: what the signed manifest says against what the device is.
import t from 'tap';
import { releaseMisfit, sortByFit, type ReleaseTerms } from '../../server/domain/release-fit.js';

const release: ReleaseTerms = { product: 'emu', version: '3.0.0', hardware: ['emu-hw-1', 'emu-hw-2'] };
const device = { product: 'emu', hardware: 'emu-hw-1', version: '2.0.0' };

const cases: [string, Partial<ReleaseTerms>, Partial<typeof device>, string | null][] = [
  ['fits', {}, {}, null],
  ['another product', {}, { product: 'gateway' }, 'product_mismatch'],
  ['hardware not signed for', {}, { hardware: 'emu-hw-9' }, 'hardware_mismatch'],
  ['product is checked before hardware', {}, { product: 'gateway', hardware: 'emu-hw-9' }, 'product_mismatch'],
  ['at minVersion', { minVersion: '2.0.0' }, {}, null],
  ['below minVersion', { minVersion: '2.5.0' }, {}, 'version_below_minimum'],
  ['hardware is checked before the version', { minVersion: '2.5.0' }, { hardware: 'emu-hw-9' }, 'hardware_mismatch'],
  ['a downgrade from a version it replaces', { version: '1.5.0', downgrade: true, replaces: '>=2.0.0 <2.2.0' }, {}, null],
  [
    'a downgrade from a version it does not replace',
    { version: '1.5.0', downgrade: true, replaces: '>=2.0.0 <2.2.0' },
    { version: '2.3.0' },
    'replaces_mismatch',
  ],
  ['a downgrade that names no versions', { version: '1.5.0', downgrade: true }, {}, 'replaces_mismatch'],
  ['replaces holds for an upgrade too', { replaces: '^1.0.0' }, {}, 'replaces_mismatch'],
  ['a version that is not semver, with a constraint', { minVersion: '1.0.0' }, { version: 'build-42' }, 'version_unknown'],
  ['a version that is not semver, without one', {}, { version: 'build-42' }, null],
  ['already at the version is no misfit', {}, { version: '3.0.0' }, null],
];

t.test('releaseMisfit', async (t) => {
  for (const [why, terms, facts, reason] of cases) {
    const misfit = releaseMisfit({ ...release, ...terms }, { ...device, ...facts });
    t.equal(misfit?.reason ?? null, reason, why);
    if (misfit) t.match(misfit.message, /\S/, `${why}: says why`);
  }
});

t.test('sortByFit keeps the order and says why for each device left out', async (t) => {
  const devices = [
    { id: 'a', ...device },
    { id: 'b', ...device, hardware: 'emu-hw-9' },
    { id: 'c', ...device, version: '1.0.0' },
    { id: 'd', ...device, hardware: 'emu-hw-2' },
  ];
  const { fitting, misfits } = sortByFit({ ...release, minVersion: '2.0.0' }, devices);
  t.same(
    fitting.map((entry) => entry.id),
    ['a', 'd'],
  );
  t.same(
    misfits.map((entry) => [entry.device, entry.reason]),
    [
      ['b', 'hardware_mismatch'],
      ['c', 'version_below_minimum'],
    ],
  );
});
