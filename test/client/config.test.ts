// agent.json (DESIGN.md, "Device agent"): paths relative to the file; unknown fields and
// missing required ones refused with the field's name; types checked.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, parseConfig } from '../../client/config.js';
import { ConfigError } from '../../client/errors.js';
import { fixtureDirectory } from './helpers/device.js';

const example = JSON.parse(readFileSync(join(fixtureDirectory, 'agent.json'), 'utf8'));
const base = { ...example, token: 'device-token', tokenFile: undefined };
delete base.tokenFile;

function refusal(raw: unknown, directory = '/etc/sluice'): ConfigError | null {
  try {
    parseConfig(raw, directory);
    return null;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

t.test('the example in fixtures/agent loads, paths resolved against the file', async (t) => {
  const config = loadConfig(join(fixtureDirectory, 'agent.json'));
  t.equal(config.token, 'device-token', 'tokenFile read and trimmed');
  t.equal(config.trustRoot, join(fixtureDirectory, 'root.json'));
  t.equal(config.dataDir, join(fixtureDirectory, 'state'));
  t.same(config.slots, { a: join(fixtureDirectory, 'slots/a'), b: join(fixtureDirectory, 'slots/b') });
  t.same(config.install.command, [join(fixtureDirectory, 'install.sh')], './install.sh is relative to the file');
  t.same(config.diagnostics.logs, [join(fixtureDirectory, 'app.log')]);
  t.equal(config.product, 'emu');
  t.equal(config.hardware, 'emu-hw-1');
  t.equal(config.version, '1.0.0');
  t.equal(config.versionFile, null);
  t.equal(config.install.expectedSeconds, 300);
});

t.test('defaults for the optional fields', async (t) => {
  const minimal = { ...base };
  delete minimal.diagnostics;
  delete minimal.pollSeconds;
  minimal.install = { command: ['/usr/bin/rauc', 'install'] };
  minimal.health = { command: ['true'] };
  const config = parseConfig(minimal, '/etc/sluice');
  t.same(
    config.install,
    { command: ['/usr/bin/rauc', 'install'], timeoutSeconds: 600, expectedSeconds: 300 },
    'absolute and PATH programs are left alone',
  );
  t.same(config.health, { command: ['true'], timeoutSeconds: 120 });
  t.equal(config.pollSeconds, 60);
  t.equal(config.diagnostics.maxBytes, 10 * 1024 * 1024);
  t.equal(config.server, base.server);
});

const without = (path: string[]) => {
  const copy = structuredClone(base);
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key];
  delete target[path.at(-1)!];
  return copy;
};
const withValue = (path: string[], value: unknown) => {
  const copy = structuredClone(base);
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key];
  target[path.at(-1)!] = value;
  return copy;
};

t.test('a missing required field is named', async (t) => {
  for (const path of [
    ['server'],
    ['deviceId'],
    ['trustRoot'],
    ['dataDir'],
    ['slots'],
    ['slots', 'a'],
    ['slots', 'b'],
    ['install'],
    ['install', 'command'],
    ['health'],
    ['health', 'command'],
    ['product'],
    ['hardware'],
  ]) {
    const error = refusal(without(path));
    t.equal(error?.field, path.join('.'), `missing ${path.join('.')}`);
    t.equal(error?.code, 'config_invalid');
  }
  t.equal(refusal(without(['token']))?.field, 'token', 'neither token nor tokenFile');
  t.match(
    refusal(without(['version'])),
    { field: 'version', message: /is required \(or versionFile\)/ },
    'neither version nor versionFile: no default that makes every release an upgrade',
  );
});

t.test('an unknown field is named, at any depth', async (t) => {
  t.equal(refusal({ ...base, serverUrl: 'x' })?.field, 'serverUrl');
  t.equal(refusal(withValue(['install', 'timeout'], 5))?.field, 'install.timeout');
  t.equal(refusal(withValue(['slots', 'c'], 'slots/c'))?.field, 'slots.c');
  t.equal(
    refusal(withValue(['diagnostics', 'commands'], ['ls']))?.field,
    'diagnostics.commands',
    'the server cannot be given commands through the config either',
  );
});

t.test('a value of the wrong type is named', async (t) => {
  const cases: [string[], unknown][] = [
    [['server'], 'ftp://host'],
    [['server'], 8080],
    [['deviceId'], ''],
    [['token'], 7],
    [['install', 'command'], './install.sh'],
    [['install', 'command'], []],
    [
      ['install', 'command'],
      ['ok', 3],
    ],
    [['install', 'timeoutSeconds'], 0],
    [['install', 'expectedSeconds'], '300'],
    [['health', 'timeoutSeconds'], -1],
    [['diagnostics', 'logs'], 'app.log'],
    [['diagnostics', 'maxBytes'], Number.NaN],
    [['version'], 'one'],
    [['pollSeconds'], 0],
    [['slots'], ['a', 'b']],
    [['hardware'], ['emu-hw-1']],
    [['product'], ''],
    [['product'], ['emu']],
    [['versionFile'], 7],
  ];
  for (const [path, value] of cases)
    t.equal(refusal(withValue(path, value))?.field, path.join('.'), `${path.join('.')} = ${JSON.stringify(value)}`);
  t.equal(refusal([])?.field, '', 'the whole file must be an object');
});

t.test('token and tokenFile: exactly one, and the file must be readable', async (t) => {
  t.equal(refusal({ ...base, tokenFile: 'device.token' })?.field, 'tokenFile', 'both given');
  const noToken = without(['token']);
  t.equal(refusal({ ...noToken, tokenFile: '/nonexistent/device.token' })?.field, 'tokenFile');
});

t.test('versionFile instead of version: read at each start, trimmed, a semantic version', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const config = { ...without(['version']), versionFile: 'sw-version' };
  writeFileSync(join(directory, 'sw-version'), '2.4.1\n');
  t.match(
    parseConfig(config, directory),
    { version: '2.4.1', versionFile: join(directory, 'sw-version') },
    'relative to the file, trimmed',
  );
  writeFileSync(join(directory, 'sw-version'), '2.5.0');
  t.equal(parseConfig(config, directory).version, '2.5.0', 'read again at the next start');
  writeFileSync(join(directory, 'sw-version'), 'build 77\n');
  t.match(refusal(config, directory), { field: 'versionFile', message: /must hold a semantic version, not "build 77"/ });
  t.match(refusal({ ...config, versionFile: 'missing' }, directory), { field: 'versionFile', message: /cannot read/ });
  t.match(refusal({ ...config, version: '1.0.0' }, directory), { field: 'versionFile', message: /either version or versionFile/ });
});

t.test('the file itself: unreadable or not JSON', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'sluice-config-'));
  t.teardown(() => rmSync(directory, { recursive: true, force: true }));
  const failure = (file: string) => {
    try {
      loadConfig(file);
      return null;
    } catch (error) {
      return error as ConfigError;
    }
  };
  t.equal(failure(join(directory, 'missing.json'))?.field, 'config');
  writeFileSync(join(directory, 'broken.json'), '{ "server": ');
  t.match(failure(join(directory, 'broken.json')), { field: 'config', message: /not JSON/ });
});
