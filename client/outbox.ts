// Reports made while the server is unreachable wait in a durable outbox and are sent later,
// in order (DESIGN.md, "Device agent"). Each report is one file, written atomically, named by
// a sequence number; it is deleted only after the server acknowledged it. A resend keeps its
// eventId, so the server records it once.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomically } from './state-file.js';

export interface Report {
  eventId: string;
  assignment: string | null;
  state: string;
  detail?: string | null;
  progress?: number | null;
  at: string;
  /** On `downloaded`: what the download cost (docs/delta-updates.md). */
  delivery?: { method: 'delta' | 'full'; bytesDownloaded: number; bytesFull: number };
}

/**
 * A report's event id, derived from the update run, the state and its attempt number, shaped
 * as a UUID (version 8: name-based, RFC 9562). Derived rather than drawn so that the report
 * re-queued after a crash between persisting a state and queueing it is the same event.
 */
export function eventIdFor(run: string, state: string, attempt: number): string {
  const hex = createHash('sha256').update(`${run}:${state}:${attempt}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** What sending a report gave: delivered (or refused for good) vs try again later. */
export type SendResult = 'delivered' | 'rejected' | 'retry';

export class Outbox {
  private readonly directory: string;
  private sequence: number;

  constructor(dataDir: string) {
    this.directory = join(dataDir, 'outbox');
    mkdirSync(this.directory, { recursive: true });
    const last = this.files().at(-1);
    this.sequence = last ? Number(last.split('-')[0]) : 0;
  }

  private files(): string[] {
    return readdirSync(this.directory)
      .filter((name) => /^\d{12}-.+\.json$/.test(name))
      .sort();
  }

  enqueue(report: Report): void {
    this.sequence++;
    writeFileAtomically(join(this.directory, `${String(this.sequence).padStart(12, '0')}-${report.eventId}.json`), JSON.stringify(report));
  }

  pending(): Report[] {
    return this.files().map((name) => JSON.parse(readFileSync(join(this.directory, name), 'utf8')) as Report);
  }

  /** Sends in order; stops at the first report that must be retried, keeping it and the rest. */
  async flush(send: (report: Report) => Promise<SendResult>): Promise<{ sent: number; left: number }> {
    let sent = 0;
    const files = this.files();
    for (const [index, name] of files.entries()) {
      const report = JSON.parse(readFileSync(join(this.directory, name), 'utf8')) as Report;
      const result = await send(report).catch((): SendResult => 'retry');
      if (result === 'retry') return { sent, left: files.length - index };
      // A report the server refuses for good (e.g. its plan was deleted) must not block the rest.
      rmSync(join(this.directory, name), { force: true });
      sent++;
    }
    return { sent, left: 0 };
  }
}
