// A throw-away signed SWUpdate image (.swu) and a real `swupdate` process in suricatta mode,
// as Debian packages them. The image's only effect is to write a file in a temporary directory.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function buildSwu(directory: string, content: string): { swu: Buffer; certificate: string; installedPath: string } {
  const run = (program: string, args: string[], input?: string) =>
    execFileSync(program, args, { cwd: directory, input, stdio: ['pipe', 'pipe', 'pipe'] });
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'key.pem',
    '-out',
    'cert.pem',
    '-days',
    '2',
    '-subj',
    '/CN=sluice test signer',
    '-addext',
    'extendedKeyUsage=emailProtection',
  ]);
  writeFileSync(join(directory, 'payload.txt'), content);
  const installedPath = join(directory, 'installed.txt');
  const sha256 = createHash('sha256').update(content).digest('hex');
  writeFileSync(
    join(directory, 'sw-description'),
    `software = {
  version = "2.0.0";
  hardware-compatibility: [ "1.0" ];
  files: (
    {
      filename = "payload.txt";
      path = "${installedPath}";
      sha256 = "${sha256}";
    }
  );
}
`,
  );
  run('openssl', [
    'cms',
    '-sign',
    '-in',
    'sw-description',
    '-out',
    'sw-description.sig',
    '-signer',
    'cert.pem',
    '-inkey',
    'key.pem',
    '-outform',
    'DER',
    '-nosmimecap',
    '-binary',
  ]);
  const swu = run('cpio', ['-o', '-H', 'crc'], 'sw-description\nsw-description.sig\npayload.txt\n');
  return { swu, certificate: join(directory, 'cert.pem'), installedPath };
}

/** An swupdate.cfg whose `identify` entries SWUpdate sends as the controller's attributes (configData) at every start. */
export function writeIdentifyConfig(directory: string, attributes: Record<string, string>): string {
  const path = join(directory, 'swupdate.cfg');
  const entries = Object.entries(attributes)
    .map(([name, value]) => `  { name = "${name}"; value = "${value}"; }`)
    .join(',\n');
  // SWUpdate refuses a configuration file without its `globals` section.
  writeFileSync(path, `globals : {\n  verbose = true;\n};\nidentify : (\n${entries}\n);\n`);
  return path;
}

export function startSuricatta(options: {
  directory: string;
  certificate: string;
  server: string;
  deviceId: string;
  token: string;
  pollSeconds: number;
  confirm?: 2 | 3;
  configFile?: string;
}): { process: ChildProcess; output: () => string; stop: () => Promise<void> } {
  const suricatta = `-t DEFAULT -u ${options.server} -i ${options.deviceId} -k ${options.token} -p ${options.pollSeconds}${options.confirm ? ` -c ${options.confirm}` : ''}`;
  const child = spawn(
    'swupdate',
    ['-v', '-H', 'board:1.0', ...(options.configFile ? ['-f', options.configFile] : []), '-k', options.certificate, '-u', suricatta],
    { cwd: options.directory, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: options.directory } },
  );
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return {
    process: child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export const readIfExists = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
};
