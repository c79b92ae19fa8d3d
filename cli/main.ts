// One CLI, `sluice`, for the server, the agent, the signing tools and the simulator
// (docs/cli.md). Each verb lives in its own module, loaded only when used, so that
// `sluice agent` on a device never loads fastify or SQLite.
import packageJson from '../package.json' with { type: 'json' };
import { describeOptions, type OptionSpecs } from './options.js';

export interface Command {
  summary: string;
  usage: string;
  /** `options`, where a verb exports its table, makes its `--help` list every option. */
  load: () => Promise<{ run: (argv: string[]) => Promise<number>; options?: OptionSpecs }>;
}

export const commands: Record<string, Command> = {
  server: {
    summary: 'run the update server',
    usage: 'sluice server [--data-dir DIR] [--port N] [--host H] [--trust root.json] [--database URL] [--trust-proxy CIDR,…]',
    load: () => import('./server.js'),
  },
  backup: {
    summary: 'copy the database, artifacts and bundles into DIR, consistent while the server runs',
    usage: 'sluice backup --out DIR [--data-dir DIR] [--database URL] [--include-keys]',
    load: () => import('./backup.js'),
  },
  restore: {
    summary: 'restore a backup into a data directory (verified first; stop the server before)',
    usage: 'sluice restore --from DIR [--data-dir DIR] [--database URL] [--force]',
    load: () => import('./restore.js'),
  },
  'keys init': {
    summary: 'create root.json and one private key per role',
    usage: 'sluice keys init --out DIR',
    load: () => import('./keys.js'),
  },
  'release sign': {
    summary: 'sign a build offline into a release manifest',
    usage:
      'sluice release sign ARTIFACT --key KEY [--key KEY2] --product P --version V --hardware a,b [--fixes F1,F2] [--notes TEXT] [--min-version V] [--expires ISO] [--downgrade --replaces RANGE] --out MANIFEST',
    load: () => import('./release-sign.js'),
  },
  'release publish': {
    summary: 'upload a signed release to a server',
    usage: 'sluice release publish ARTIFACT --manifest MANIFEST --server URL --token T',
    load: () => import('./release-publish.js'),
  },
  'token rotate': {
    summary: 'issue a new token for a user, device or DDI gateway; the old ones stop working at once',
    usage: 'sluice token rotate --server URL --token T (--user NAME | --device ID | --gateway ID)',
    load: async () => {
      const module = await import('./credentials.js');
      return { run: module.rotate, options: module.tokenOptions };
    },
  },
  'token revoke': {
    summary: 'revoke the tokens of a user or device, or a DDI gateway token',
    usage: 'sluice token revoke --server URL --token T (--user NAME | --device ID | --gateway ID)',
    load: async () => {
      const module = await import('./credentials.js');
      return { run: module.revoke, options: module.tokenOptions };
    },
  },
  'password set': {
    summary: "change your password, or reset a user's as an admin; ends their portal sessions",
    usage: 'sluice password set --server URL --token T --user NAME [--password-file FILE] [--current-password-file FILE]',
    load: async () => {
      const module = await import('./credentials.js');
      return { run: module.setPassword, options: module.passwordOptions };
    },
  },
  'agent status': {
    summary: "print the device's running version, active slot and journal state",
    usage: 'sluice agent status --config agent.json',
    load: () => import('./agent-status.js'),
  },
  agent: {
    summary: 'run the device agent',
    usage: 'sluice agent --config agent.json',
    load: () => import('./agent.js'),
  },
  simulate: {
    summary: 'run N virtual agents in one process, for demos and load',
    usage: 'sluice simulate --server URL --token T --devices N',
    load: () => import('./simulate.js'),
  },
};

export const version: string = packageJson.version;

function usageLines(names: string[]): string[] {
  return names.flatMap((name) => [`  ${commands[name].usage}`, `      ${commands[name].summary}`]);
}

export function help(): string {
  const lines = [`sluice ${version}: signed firmware updates in customer-confirmed maintenance windows`, '', 'Usage:'];
  lines.push(...usageLines(Object.keys(commands)));
  lines.push('', '`sluice VERB --help` lists the options of one verb with their defaults; `sluice --version` prints the version.');
  return lines.join('\n') + '\n';
}

/** The two-word verbs under a first word that is not a verb itself ("keys", "release"). */
const verbsUnder = (word: string) => Object.keys(commands).filter((name) => name.startsWith(`${word} `));

/** One verb's help: usage, summary, its options with their defaults, and verbs beneath it. */
export async function verbHelp(name: string): Promise<string> {
  const command = commands[name];
  const lines = [`Usage: ${command.usage}`, `  ${command.summary}`];
  // Loaded for its option table only; nothing runs.
  const { options } = await command.load();
  if (options) lines.push('', describeOptions(options));
  const beneath = verbsUnder(name);
  if (beneath.length > 0) lines.push('', 'See also:', ...usageLines(beneath));
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(help());
    return 0;
  }
  if (argv[0] === '--version' || argv[0] === '-V') {
    process.stdout.write(`sluice ${version}\n`);
    return 0;
  }
  // Two-word verbs ("release sign") take precedence over one-word ones ("agent").
  const twoWords = `${argv[0]} ${argv[1] ?? ''}`;
  const name = twoWords in commands ? twoWords : argv[0];
  const command = commands[name];
  const group = verbsUnder(argv[0]);
  if (!command && group.length > 0) {
    // "sluice keys --help" asks which verbs follow the first word; "sluice keys" alone is a mistake.
    const text = `Usage:\n${usageLines(group).join('\n')}\n`;
    if (argv[1] === '--help' || argv[1] === '-h') {
      process.stdout.write(text);
      return 0;
    }
    const mistake = argv[1] === undefined ? `sluice ${argv[0]}: name a verb` : `sluice: unknown command "${argv[0]} ${argv[1]}"`;
    process.stderr.write(`${mistake}\n\n${text}`);
    return 2;
  }
  if (!command) {
    process.stderr.write(`sluice: unknown command "${argv[0]}"\n\n${help()}`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(await verbHelp(name));
    return 0;
  }
  const module = await command.load();
  try {
    return await module.run(rest);
  } catch (error) {
    // Command modules throw CliError (or any Error) for user mistakes: one clean line, no stack.
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`sluice ${name}: ${message}\n`);
    if (process.env.SLUICE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return 1;
  }
}
