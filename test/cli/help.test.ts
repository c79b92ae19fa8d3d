// What `sluice` says about itself: its version, the verbs under a first word, and for every
// verb each option it accepts, with its default. The built CLI in child processes, and the
// source entry once.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commands } from '../../cli/main.js';
import { parseOptions, type OptionSpec } from '../../cli/options.js';
import { sluiceBin, sourceBin } from '../helpers/processes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = sluiceBin;
const packageVersion = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

function sluice(args: string[], env: NodeJS.ProcessEnv = {}, script = bin): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      { timeout: 60_000, env: { ...process.env, SLUICE_DEBUG: '', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

/** What the help must say of an option's default. */
function expectedDefault(spec: OptionSpec): string {
  if (spec.environment) return `$${spec.environment}`;
  if (spec.shownDefault !== undefined) return `default: ${spec.shownDefault}`;
  if (spec.type === 'boolean') return `default: ${spec.default === true ? 'on' : 'off'}`;
  if (spec.default !== undefined) return `default: ${spec.default}`;
  return spec.required ? 'required' : 'default: none';
}

t.test('sluice --version prints the package version', async (t) => {
  for (const flag of ['--version', '-V']) {
    const result = await sluice([flag]);
    t.equal(result.code, 0, result.stderr);
    t.equal(result.stdout, `sluice ${packageVersion}\n`, flag);
  }
  t.match((await sluice(['--help'])).stdout, `sluice ${packageVersion}:`, 'the general help names it too');
  const source = await sluice(['--version'], {}, sourceBin);
  t.equal(source.stdout, `sluice ${packageVersion}\n`, 'the source entry (bin/sluice.js, under tsx) says the same');
});

t.test('a first word that is not a verb lists the verbs under it', async (t) => {
  const keys = await sluice(['keys', '--help']);
  t.equal(keys.code, 0, keys.stderr);
  t.match(keys.stdout, 'sluice keys init --out DIR');
  const release = await sluice(['release', '--help']);
  t.equal(release.code, 0, release.stderr);
  t.match(release.stdout, 'sluice release sign ARTIFACT');
  t.match(release.stdout, 'sluice release publish ARTIFACT');
  const bare = await sluice(['keys']);
  t.equal(bare.code, 2, 'a first word alone is a usage error');
  t.match(bare.stderr, 'sluice keys init');
  const unknown = await sluice(['keys', 'rotate']);
  t.equal(unknown.code, 2);
  t.match(unknown.stderr, 'unknown command "keys rotate"');
});

t.test('--help of every verb lists every option with its default', async (t) => {
  await Promise.all(
    Object.entries(commands).map(async ([name, command]) => {
      const { options } = await command.load();
      if (!options) {
        t.fail(`sluice ${name} --help lists its options`, {
          todo: `cli/${name.replace(' ', '-')}.ts exports no option table (cli/options.ts) yet`,
        });
        return;
      }
      const help = await sluice([...name.split(' '), '--help']);
      t.equal(help.code, 0, `sluice ${name} --help: ${help.stderr}`);
      t.match(help.stdout, `Usage: ${command.usage}`, `sluice ${name} --help starts with its usage`);
      for (const [option, spec] of Object.entries(options)) {
        const line = help.stdout.split('\n').find((text) => text.trimStart().startsWith(`--${option} `) || text.trim() === `--${option}`);
        t.ok(line, `sluice ${name} --help lists --${option}`);
        t.match(line ?? '', expectedDefault(spec), `sluice ${name} --help gives the default of --${option}`);
      }
    }),
  );
});

t.test('every verb refuses an option it does not know, naming it', async (t) => {
  await Promise.all(
    Object.keys(commands).map(async (name) => {
      const result = await sluice([...name.split(' '), '--no-such-option']);
      t.equal(result.code, 1, `sluice ${name}`);
      t.match(result.stderr, /--no-such-option/, `sluice ${name} names the option`);
    }),
  );
});

t.test('an option from the environment is read when the verb runs and never printed by --help', async (t) => {
  const specs = {
    token: { type: 'string', environment: 'SLUICE_HELP_TEST_TOKEN', description: 'a secret' },
    port: { type: 'string', default: '8080', description: 'a port' },
    quiet: { type: 'boolean', default: false, description: 'a switch' },
  } as const;
  process.env.SLUICE_HELP_TEST_TOKEN = 'from-the-environment';
  t.teardown(() => {
    delete process.env.SLUICE_HELP_TEST_TOKEN;
  });
  t.same(parseOptions(specs, []).values, { token: 'from-the-environment', port: '8080', quiet: false });
  t.same(parseOptions(specs, ['--token', 'given', '--quiet']).values, { token: 'given', port: '8080', quiet: true }, 'the option wins');
  t.throws(() => parseOptions(specs, ['stray']), /stray/, 'no positionals unless asked for');
  t.same(parseOptions(specs, ['stray'], { positionals: true }).positionals, ['stray']);

  const help = await sluice(['release', 'publish', '--help'], { SLUICE_TOKEN: 'secret-token-value' });
  t.equal(help.code, 0, help.stderr);
  t.notMatch(help.stdout, 'secret-token-value', 'the help names the variable, not its value');
  t.match(help.stdout, '$SLUICE_TOKEN');
});

t.test('docs/cli.md documents every option of every verb', async (t) => {
  const page = readFileSync(join(root, 'docs', 'cli.md'), 'utf8');
  for (const [name, command] of Object.entries(commands)) {
    const start = page.indexOf(`\n## sluice ${name}\n`);
    t.ok(start >= 0, `docs/cli.md has a section "## sluice ${name}"`);
    const end = page.indexOf('\n## ', start + 1);
    const section = page.slice(start, end < 0 ? undefined : end);
    const { options } = await command.load();
    for (const option of Object.keys(options ?? {}))
      t.match(section, `\`--${option}`, `docs/cli.md lists --${option} under sluice ${name}`);
  }
});
