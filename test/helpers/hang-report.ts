// What a test that waited too long can still learn before it kills what it started: the
// processes it is waiting on (their state, CPU time and the kernel call they sleep in), and for
// node processes started with `hangReportArguments`, where their JavaScript stands and which
// handles (sockets, timers, files) keep them alive, from node's diagnostic report.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** Node options that make a process write its diagnostic report into `directory` on SIGUSR2. */
export function hangReportArguments(directory: string): string[] {
  return ['--report-on-signal', `--report-directory=${directory}`];
}

interface Report {
  header?: { commandLine?: string[]; processId?: number };
  javascriptStack?: { message?: string; stack?: string[] };
  libuv?: { type: string; is_active?: boolean; remoteEndpoint?: { host: string; port: number } }[];
}

/**
 * The processes of group `group` and the `others`, each node among them asked for its report.
 * Never throws: it runs on the way to a failure that matters more.
 */
export async function describeHang(group: number, others: number[], reportDirectory: string): Promise<string> {
  const lines: string[] = [];
  let processes: { pid: number; command: string; line: string }[] = [];
  try {
    const table = execFileSync('ps', ['-e', '-o', 'pgid=,pid=,stat=,etime=,time=,wchan:24=,args='], { encoding: 'utf8' });
    processes = table
      .split('\n')
      .map((row) => row.trim().split(/\s+/))
      .filter((fields) => fields.length > 6 && (Number(fields[0]) === group || others.includes(Number(fields[1]))))
      .map((fields) => ({ pid: Number(fields[1]), command: fields[6], line: fields.slice(1).join(' ').slice(0, 240) }));
  } catch (error) {
    lines.push(`ps failed: ${(error as Error).message}`);
  }
  lines.push('pid stat elapsed cpu wchan command', ...processes.map((each) => each.line));
  for (const each of processes.filter((candidate) => candidate.command.endsWith('node'))) {
    try {
      process.kill(each.pid, 'SIGUSR2');
    } catch {
      // It ended meanwhile.
    }
  }
  await delay(2000);
  let names: string[] = [];
  try {
    names = readdirSync(reportDirectory).filter((name) => name.startsWith('report.') && name.endsWith('.json'));
  } catch {
    // No node process had the options.
  }
  for (const name of names) {
    try {
      const report = JSON.parse(readFileSync(join(reportDirectory, name), 'utf8')) as Report;
      lines.push(`report of ${report.header?.processId}: ${(report.header?.commandLine ?? []).join(' ').slice(0, 200)}`);
      lines.push(
        `  ${report.javascriptStack?.message ?? ''}`,
        ...(report.javascriptStack?.stack ?? []).slice(0, 12).map((frame) => `  ${frame}`),
      );
      const handles = new Map<string, number>();
      for (const handle of (report.libuv ?? []).filter((each) => each.is_active)) {
        const key = handle.remoteEndpoint ? `${handle.type} to port ${handle.remoteEndpoint.port}` : handle.type;
        handles.set(key, (handles.get(key) ?? 0) + 1);
      }
      lines.push(`  active handles: ${[...handles].map(([key, count]) => (count > 1 ? `${key} ×${count}` : key)).join(', ')}`);
      rmSync(join(reportDirectory, name), { force: true });
    } catch (error) {
      lines.push(`report ${name} unreadable: ${(error as Error).message}`);
    }
  }
  return lines.join('\n');
}
