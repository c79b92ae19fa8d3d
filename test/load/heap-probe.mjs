// Loaded into the server process by the load test (`node --import`): on SIGUSR2 it runs a full
// garbage collection and writes the heap still in use to stderr, so that memory before and
// after a load run is compared without the garbage V8 had not yet collected.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc');
process.on('SIGUSR2', () => {
  collectGarbage();
  const { heapUsed, external } = process.memoryUsage();
  process.stderr.write(`heap-probe: ${heapUsed} ${external}\n`);
});
