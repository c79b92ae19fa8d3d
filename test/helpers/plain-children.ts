// Loaded into every test file (package.json, tap's node-arg). tap's processinfo module passes
// itself on to every child process a test starts (NODE_OPTIONS and a spawn hook) so that it
// can map coverage across processes. Coverage is off in this project, and in each child it
// cost about a second of CPU before the child did anything (measured: `sluice agent --help`
// 0.9 s plain, 2.5 s with it), in a suite that starts hundreds of servers, agents and CLI runs
// on two cores. So the tests' children start plain.
import processOnSpawn from 'process-on-spawn';

processOnSpawn.removeAllListeners();
const options = (process.env.NODE_OPTIONS ?? '').split(/\s+/).filter((option) => option !== '' && !option.includes('@tapjs/processinfo'));
if (options.length > 0) process.env.NODE_OPTIONS = options.join(' ');
else delete process.env.NODE_OPTIONS;
