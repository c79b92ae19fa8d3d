// The server's settings are checked against one schema (server/config-schema.ts), from the
// command line and from code alike: a bad value is refused naming its flag, never turned into
// NaN, and the configuration the server runs with is frozen.
import t from 'tap';
import { resolveOptions } from '../../server/config.js';
import { runSluice } from '../helpers/processes.js';

t.test("bad flags are refused with the flag's name and what it takes, before anything starts", async (t) => {
  const cases: [string[], RegExp][] = [
    [['--poll-seconds', 'abc'], /--poll-seconds must be a whole number of seconds from 1 to 86400, not "abc"/],
    [['--poll-seconds', '0'], /--poll-seconds must be a whole number of seconds from 1 to 86400, not "0"/],
    [['--port', '70000'], /--port must be a whole number from 0 to 65535, not "70000"/],
    [['--port', '8o8o'], /--port must be a whole number from 0 to 65535, not "8o8o"/],
    [['--signing-threads', '2'], /--signing-threads must be a whole number from 0 to 1, not "2"/],
    [['--request-timeout', 'soon'], /--request-timeout must be a number of seconds from 0.1 to 86400, not "soon"/],
    [
      ['--artifact-delivery', 'redirect', '--presign-seconds', '604801'],
      /--presign-seconds must be a whole number of seconds from 1 to 604800, not "604801"/,
    ],
  ];
  for (const [flags, message] of cases) {
    const result = await runSluice(['server', '--data-dir', '/nonexistent/never-created', ...flags]);
    t.equal(result.code, 1, flags.join(' '));
    t.match(result.stderr, message, flags.join(' '));
  }
});

t.test('code that builds the server gets the same refusals, and a frozen configuration', async (t) => {
  t.throws(() => resolveOptions({ pollSeconds: Number.NaN }), {
    message: '--poll-seconds must be a whole number of seconds from 1 to 86400, not "NaN"',
  });
  t.throws(() => resolveOptions({ checkinTtlSeconds: 5 }), {
    message: /^checkinTtlSeconds must be a whole number of seconds from 10 to 3600/,
  });
  t.throws(() => resolveOptions({ autoFaultClass: 'E' as 'A' }), { message: 'autoFaultClass must be one of A, B, C, D, not "E"' });
  t.throws(() => resolveOptions({ ddiTenant: 'a/b' }), { message: /^ddiTenant must be text matching/ });
  const options = resolveOptions({ pollSeconds: 60 });
  t.equal(options.pollSeconds, 60);
  t.ok(Object.isFrozen(options), 'frozen');
  t.throws(
    () => {
      (options as { pollSeconds: number }).pollSeconds = 1;
    },
    TypeError,
    "a running server's settings cannot be changed",
  );
});
