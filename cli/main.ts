// One CLI, `sluice`, for the server, the agent, the signing tools and the simulator
// (DESIGN.md, "CLI"). Each verb lives in its own module, loaded only when used, so that
// `sluice agent` on a device never loads fastify or SQLite.
export interface Command {
  summary: string;
  usage: string;
  load: () => Promise<{ run: (argv: string[]) => Promise<number> }>;
}

const commands: Record<string, Command> = {
  server: {
    summary: 'run the update server',
    usage: 'sluice server [--data-dir DIR] [--port N] [--host H] [--trust root.json]',
    load: () => import('./server.js'),
  },
  backup: {
    summary: 'copy the database, artifacts and bundles into DIR, consistent while the server runs',
    usage: 'sluice backup --out DIR [--data-dir DIR] [--include-keys]',
    load: () => import('./backup.js'),
  },
  restore: {
    summary: 'restore a backup into a data directory (verified first; stop the server before)',
    usage: 'sluice restore --from DIR [--data-dir DIR] [--force]',
    load: () => import('./restore.js'),
  },
  'keys init': {
    summary: 'create root.json and one private key per role',
    usage: 'sluice keys init --out DIR',
    load: () => import('./keys.js'),
  },
  'release sign': {
    summary: 'sign a build offline into a release manifest',
    usage: 'sluice release sign ARTIFACT --key KEY [--key KEY2] --product P --version V [--hardware a,b] [--fixes F1,F2] [--notes TEXT] --out MANIFEST',
    load: () => import('./release-sign.js'),
  },
  'release publish': {
    summary: 'upload a signed release to a server',
    usage: 'sluice release publish ARTIFACT --manifest MANIFEST --server URL --token T',
    load: () => import('./release-publish.js'),
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

export function help(): string {
  const lines = ['sluice: signed firmware updates in customer-confirmed maintenance windows', '', 'Usage:'];
  for (const command of Object.values(commands)) lines.push(`  ${command.usage}`, `      ${command.summary}`);
  return lines.join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    process.stdout.write(help());
    return 0;
  }
  // Two-word verbs ("release sign") take precedence over one-word ones ("agent").
  const twoWords = `${argv[0]} ${argv[1] ?? ''}`;
  const name = twoWords in commands ? twoWords : argv[0];
  const command = commands[name];
  if (!command) {
    process.stderr.write(`sluice: unknown command "${argv[0]}"\n\n${help()}`);
    return 2;
  }
  const rest = argv.slice(name.split(' ').length);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`Usage: ${command.usage}\n  ${command.summary}\n`);
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
