// The schema of the server's settings: each setting's type and range, and the flag it comes
// from, in one table. server/config.ts checks the whole configuration against it before it
// freezes it (so a test or an embedding program gets the same refusal as the CLI), and
// cli/server.ts turns each flag's text into its value through it, so `--poll-seconds abc` is
// refused naming the flag instead of becoming NaN. TypeBox, as for the wire schemas.
import { Type, type TSchema } from 'typebox';
import { Value } from 'typebox/value';

// `unit` is said in a refusal: "a whole number of seconds from 1 to 86400".
const whole = (minimum: number, maximum: number, description: string, unit?: string) =>
  Type.Integer({ minimum, maximum, description, unit });
const seconds = (minimum: number, maximum: number, description: string) => Type.Number({ minimum, maximum, description, unit: 'seconds' });

/** Each checked setting: its schema, and the flag that sets it on the command line. */
export const serverSettings = {
  port: { flag: '--port', schema: whole(0, 65_535, 'the port to listen on (0: any free port)') },
  host: { flag: '--host', schema: Type.String({ minLength: 1, maxLength: 255, description: 'the address to listen on' }) },
  pollSeconds: { flag: '--poll-seconds', schema: whole(1, 86_400, 'seconds devices wait between check-ins', 'seconds') },
  signingThreads: { flag: '--signing-threads', schema: whole(0, 1, 'worker threads that sign check-in answers') },
  checkinTtlSeconds: { flag: 'checkinTtlSeconds', schema: whole(10, 3600, 'lifetime of a signed check-in answer', 'seconds') },
  maxArtifactBytes: { flag: 'maxArtifactBytes', schema: whole(1, Number.MAX_SAFE_INTEGER, 'largest artifact accepted') },
  ddiTenant: {
    flag: 'ddiTenant',
    schema: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', description: 'the hawkBit tenant in DDI URLs' }),
  },
  autoFaultClass: {
    flag: 'autoFaultClass',
    schema: Type.Union([Type.Literal('A'), Type.Literal('B'), Type.Literal('C'), Type.Literal('D')]),
  },
  logger: { flag: '--quiet', schema: Type.Boolean() },
  headersTimeoutSeconds: { flag: '--headers-timeout', schema: seconds(0.1, 3600, 'seconds to send the headers') },
  requestTimeoutSeconds: { flag: '--request-timeout', schema: seconds(0.1, 86_400, 'seconds a transfer may stall') },
  keepAliveTimeoutSeconds: { flag: '--keep-alive-timeout', schema: seconds(0.1, 3600, 'seconds an idle connection stays open') },
  maxConnections: { flag: '--max-connections', schema: whole(1, 1_000_000, 'connections open at once', 'connections') },
  presignSeconds: {
    flag: '--presign-seconds',
    schema: whole(1, 604_800, 'seconds a pre-signed URL stays valid (S3 allows seven days)', 'seconds'),
  },
} as const satisfies Record<string, { flag: string; schema: TSchema }>;

export type ServerSettingName = keyof typeof serverSettings;

/** What the schema allows, in words, for a refusal: "a whole number from 1 to 86400". */
function allowed(schema: TSchema): string {
  const bounds = schema as {
    minimum?: number;
    maximum?: number;
    pattern?: string;
    type?: string;
    unit?: string;
    anyOf?: { const: string }[];
  };
  const unit = bounds.unit ? ` of ${bounds.unit}` : '';
  if (bounds.anyOf) return `one of ${bounds.anyOf.map((each) => each.const).join(', ')}`;
  if (bounds.type === 'integer') return `a whole number${unit} from ${bounds.minimum} to ${bounds.maximum}`;
  if (bounds.type === 'number') return `a number${unit} from ${bounds.minimum} to ${bounds.maximum}`;
  if (bounds.type === 'boolean') return 'true or false';
  if (bounds.pattern) return `text matching ${bounds.pattern}`;
  return 'non-empty text';
}

/** Refuses a value outside the setting's schema, naming its flag. */
export function checkSetting(name: ServerSettingName, value: unknown, given: unknown = value): void {
  const { flag, schema } = serverSettings[name];
  if (!Value.Check(schema, value)) throw new Error(`${flag} must be ${allowed(schema)}, not "${String(given)}"`);
}

/** A flag's text as the setting's value (a number where the schema says so), or undefined when absent. */
export function settingFromFlag(name: ServerSettingName, text: string | undefined): number | string | undefined {
  if (text === undefined) return undefined;
  const schema = serverSettings[name].schema as { type?: string };
  const value = schema.type === 'integer' || schema.type === 'number' ? (text.trim() === '' ? Number.NaN : Number(text)) : text;
  checkSetting(name, value, text);
  return value;
}

/** Checks every setting of a configuration that the table covers. */
export function checkSettings(options: Partial<Record<ServerSettingName, unknown>>): void {
  for (const name of Object.keys(serverSettings) as ServerSettingName[]) {
    if (options[name] !== undefined) checkSetting(name, options[name]);
  }
}
