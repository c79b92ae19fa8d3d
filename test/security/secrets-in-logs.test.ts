// Tokens and passwords never reach the server's log: a real `sluice server` process with its
// request log on is driven with every kind of secret (bearer tokens right and wrong, a
// password set through the API, portal sign-ins right and wrong, the session cookie), and
// nothing it printed contains any of them.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { sluiceBin } from '../helpers/processes.js';

t.test('no secret appears in the log', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sluice-log-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const child = spawn(process.execPath, [sluiceBin, 'server', '--data-dir', dataDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  t.teardown(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${log}`)), 30_000);
    const poll = setInterval(() => {
      const match = /listening on (http:\/\/[\d.:]+)/.exec(log);
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(match[1]);
      }
    }, 50);
  });
  const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const call = async (
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; json?: unknown; form?: Record<string, string>; cookie?: string } = {},
  ) => {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.cookie) headers.cookie = options.cookie;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(options.form).toString();
    }
    const response = await request(`${url}${path}`, { method, headers, body });
    const text = await response.body.text();
    return { status: response.statusCode, text, setCookie: ([] as string[]).concat(response.headers['set-cookie'] ?? []) };
  };

  const password = 'correct horse battery staple 7431';
  const wrongPassword = 'wrong horse battery staple 9902';
  const wrongToken = 'u_this-is-not-a-real-token-but-looks-like-one';
  const user = JSON.parse(
    (await call('POST', '/api/v1/users', { token: admin, json: { username: 'ana', role: 'support', password } })).text,
  );
  t.ok(user.token, 'a user with a password');
  t.equal((await call('GET', '/api/v1/plans', { token: user.token })).status, 200);
  t.equal((await call('GET', '/api/v1/plans', { token: wrongToken })).status, 401);

  const signIn = async (secret: string) => {
    const form = await call('GET', '/login');
    const loginCookie = form.setCookie.map((cookie) => cookie.split(';')[0]).join('; ');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1];
    return call('POST', '/login', { cookie: loginCookie, form: { _csrf: csrf, username: 'ana', password: secret } });
  };
  t.ok((await signIn(wrongPassword)).status >= 400, 'a wrong password is refused');
  const signedIn = await signIn(password);
  t.equal(signedIn.status, 303, 'the right one signs in');
  const session = signedIn.setCookie.find((cookie) => cookie.startsWith('sluice_session='))!.split(';')[0];
  t.equal((await call('GET', '/staff', { cookie: session })).status, 200, 'the session works');

  child.kill('SIGTERM');
  await exited;
  t.match(log, /incoming request/, 'the request log was on');
  for (const [name, secret] of [
    ['admin token', admin],
    ['user token', user.token],
    ['wrong token', wrongToken],
    ['password', password],
    ['wrong password', wrongPassword],
    ['session cookie', session.split('=')[1]],
  ]) {
    t.notOk(log.includes(secret), `the ${name} is not in the log`);
  }
});
