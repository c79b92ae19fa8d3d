// `sluice token rotate|revoke --server URL --token T (--user NAME | --device ID | --gateway ID)`
// and `sluice password set --server URL --token T --user NAME`: credentials changed through
// the server's API (docs/api.md, "Credentials"), so every change is checked and audited there.
// A new token is printed alone on stdout (shown once), what happened on stderr.
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { parseOptions } from './options.js';

const connection = {
  server: { type: 'string', value: 'URL', required: true, environment: 'SLUICE_SERVER', description: "the server's base URL" },
  token: {
    type: 'string',
    value: 'T',
    required: true,
    environment: 'SLUICE_TOKEN',
    description: "your token: an admin's for anyone, or your own for yourself (support or admin for devices and gateways)",
  },
} as const;

export const tokenOptions = {
  ...connection,
  user: { type: 'string', value: 'NAME', description: "a user's tokens, by user name (`me`: your own)" },
  device: { type: 'string', value: 'ID', description: "a device's token" },
  gateway: { type: 'string', value: 'ID', description: 'a hawkBit DDI gateway token, by the id it was created with' },
} as const;

export const passwordOptions = {
  ...connection,
  user: { type: 'string', value: 'NAME', required: true, description: 'whose password, by user name (`me`: your own)' },
  'password-file': {
    type: 'string',
    value: 'FILE',
    shownDefault: 'read from standard input',
    description: 'a file holding the new password (at least 10 characters)',
  },
  'current-password-file': {
    type: 'string',
    value: 'FILE',
    description: 'a file holding your current password: needed to change your own',
  },
} as const;

interface Connection {
  server: string;
  token: string;
}

/** One JSON API call; a refusal becomes one line with the server's code and message. */
async function call<Reply = unknown>(
  connection: Connection,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Reply> {
  const response = await request(new URL(path, connection.server), {
    method,
    headers: { authorization: `Bearer ${connection.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: Error & { code?: string }) => {
    throw new Error(`cannot reach ${connection.server}: ${error.code ?? error.message}`);
  });
  const text = await response.body.text();
  let parsed: { error?: { code: string; message: string } } | null = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON: reported as is */
  }
  if (response.statusCode >= 300) {
    const reason = parsed?.error ? `${parsed.error.code}: ${parsed.error.message}` : text;
    throw new Error(`refused (HTTP ${response.statusCode}) ${reason}`);
  }
  return parsed as Reply;
}

function connectionOf(values: { server?: string; token?: string }): Connection {
  if (!values.server) throw new Error('--server URL is required (or SLUICE_SERVER)');
  if (!values.token) throw new Error('--token is required (or SLUICE_TOKEN)');
  return { server: values.server, token: values.token };
}

/** A user's id by name; `me` is the caller. Anyone but an admin finds only themselves. */
async function userId(connection: Connection, name: string): Promise<string> {
  if (name === 'me') return 'me';
  const [user] = (await call(connection, 'GET', `/api/v1/users?username=${encodeURIComponent(name)}`)) as { id: string }[];
  if (!user) throw new Error(`no user "${name}" that this token may manage (an admin's sees every user, any other only its own)`);
  return user.id;
}

type Target = { kind: 'user'; name: string } | { kind: 'device'; id: string } | { kind: 'gateway'; id: string };

function targetOf(values: { user?: string; device?: string; gateway?: string }): Target {
  const given = [values.user && 'user', values.device && 'device', values.gateway && 'gateway'].filter(Boolean);
  if (given.length !== 1) throw new Error('name exactly one of --user NAME, --device ID or --gateway ID');
  if (values.user) return { kind: 'user', name: values.user };
  if (values.device) return { kind: 'device', id: values.device };
  return { kind: 'gateway', id: values.gateway! };
}

const say = (line: string) => process.stderr.write(`${line}\n`);

export async function rotate(argv: string[]): Promise<number> {
  const { values } = parseOptions(tokenOptions, argv);
  const connection = connectionOf(values);
  const target = targetOf(values);
  let issued: { token: string; revoked?: number };
  if (target.kind === 'user')
    issued = await call(connection, 'POST', `/api/v1/users/${encodeURIComponent(await userId(connection, target.name))}/tokens`);
  else if (target.kind === 'device') issued = await call(connection, 'POST', `/api/v1/devices/${encodeURIComponent(target.id)}/token`);
  else issued = await call(connection, 'POST', `/api/v1/ddi/gateway-tokens/${encodeURIComponent(target.id)}/rotate`);
  const who = target.kind === 'user' ? `user ${target.name}` : `${target.kind} ${target.id}`;
  const revoked = issued.revoked === undefined ? 'the old secret' : `${issued.revoked} old token(s)`;
  say(`rotated the token of ${who}: ${revoked} no longer work(s); the new token below is shown once`);
  process.stdout.write(`${issued.token}\n`);
  return 0;
}

export async function revoke(argv: string[]): Promise<number> {
  const { values } = parseOptions(tokenOptions, argv);
  const connection = connectionOf(values);
  const target = targetOf(values);
  if (target.kind === 'gateway') {
    await call(connection, 'POST', `/api/v1/ddi/gateway-tokens/${encodeURIComponent(target.id)}/revoke`);
    say(`revoked gateway token ${target.id}`);
    return 0;
  }
  const path =
    target.kind === 'user'
      ? `/api/v1/users/${encodeURIComponent(await userId(connection, target.name))}/tokens`
      : `/api/v1/devices/${encodeURIComponent(target.id)}/token`;
  const { revoked } = (await call(connection, 'DELETE', path)) as { revoked: number };
  say(`revoked ${revoked} token(s) of ${target.kind === 'user' ? `user ${target.name}` : `device ${target.id}`}`);
  return 0;
}

/** A password from a file or standard input, without the line end an editor or `echo` adds. */
function readPassword(path: string | undefined): string {
  return readFileSync(path ?? 0, 'utf8').replace(/\r?\n$/, '');
}

export async function setPassword(argv: string[]): Promise<number> {
  const { values } = parseOptions(passwordOptions, argv);
  const connection = connectionOf(values);
  if (!values.user) throw new Error('--user NAME is required (`me` for your own password)');
  const password = readPassword(values['password-file']);
  if (password.length < 10) throw new Error('the new password must have at least 10 characters');
  const currentPassword = values['current-password-file'] === undefined ? undefined : readPassword(values['current-password-file']);
  const { sessionsEnded } = (await call(
    connection,
    'PUT',
    `/api/v1/users/${encodeURIComponent(await userId(connection, values.user))}/password`,
    { password, ...(currentPassword === undefined ? {} : { currentPassword }) },
  )) as { sessionsEnded: number };
  say(`password of ${values.user} set; ${sessionsEnded} portal session(s) ended`);
  return 0;
}
