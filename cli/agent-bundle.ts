// Entry of the device agent's prebuilt bundle (`npm run build:agent` → dist/sluice-agent.mjs):
// the agent and its dependencies as one plain JavaScript file that plain `node` runs, without
// the tsx loader (which alone costs ~35 MiB of RSS, half of a small device's budget) and
// without the server's modules. Same verbs and arguments as `sluice agent`.
const usage = 'usage: node sluice-agent.mjs agent --config agent.json | agent status --config agent.json\n';
const [verb, ...rest] = process.argv.slice(2);
const status = rest[0] === 'status';
if (verb !== 'agent') {
  process.stderr.write(usage);
  process.exit(2);
}
const module = status ? await import('./agent-status.js') : await import('./agent.js');
try {
  process.exitCode = await module.run(status ? rest.slice(1) : rest);
} catch (error) {
  // As cli/main.ts: a user's mistake is one clean line, not a stack.
  process.stderr.write(`sluice agent${status ? ' status' : ''}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
