// The device agent (DESIGN.md, "Device agent"): one handler per state returns the next step;
// the loop that runs them is small (STYLE.md, Mender's state.go). Every state is persisted
// before it acts; every transition is reported through the durable outbox.
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, renameSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Agent as HttpAgent } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AgentConfig } from './config.js';
import { AgentError } from './errors.js';
import { canTransition, recoveryTable, maximumAttempts, giveUpState, type AgentState } from './states.js';
import { writeStateFile, writeFileAtomically, type AgentStateFile, type JournalAssignment, type LastUpdate } from './state-file.js';
import { Outbox, eventIdFor } from './outbox.js';
import { fetchUpdate, keepInstalled, prepareSeed, removeDeltaFiles, type AgentSettings, type Delivery } from './delta/fetch-update.js';
import type { ReleaseManifest } from '../signing/manifest.js';
import { runHook as spawnHook, type HookResult } from './hooks.js';
import { checkin, updateRoots, sendReport, type CheckinAnswer, type ProtocolOptions } from './protocol.js';
import { TrustStore } from '../signing/trust-store.js';
import { SigningError } from '../signing/errors.js';
import { hashFile } from '../signing/digest.js';
import { collectDiagnostics, uploadDiagnostics, answeredSessions } from './diagnostics.js';
import { artifactPaths, hookEnvironment, otherSlot } from './slots.js';
import { checkOffer } from './offer.js';
import { startingState } from './running-version.js';

export interface AgentDependencies {
  now: () => Date;
  /** Jitter, in [0, 1). */
  random: () => number;
  /** Nonces, update-run ids and event ids. */
  randomBytes: (size: number) => Buffer;
  /** The HTTP client (undici dispatcher) of the protocol and diagnostics; the global one by default. The artifact download uses node:http (client/http-get.ts). */
  dispatcher?: Dispatcher;
  /** Sockets for the artifact download (node:http or node:https agent); by default each download has a connection of its own. */
  downloadAgent?: HttpAgent;
  runHook: (command: string[], environment: Record<string, string>, timeoutSeconds: number) => Promise<HookResult>;
  /** Fault injection for crash tests: the state after whose persistence the process dies. */
  crashAfterState?: string;
  log: (line: string) => void;
}

/** How long to wait before the next step, in milliseconds. */
type Step = number;

export function createAgent(config: AgentConfig, overrides: Partial<AgentDependencies> = {}) {
  const dependencies: AgentDependencies = {
    now: () => new Date(),
    random: Math.random,
    randomBytes,
    runHook: spawnHook,
    crashAfterState: process.env.SLUICE_CRASH_AFTER_STATE,
    log: () => {},
    ...overrides,
  };
  const { now } = dependencies;
  const protocol: ProtocolOptions = {
    server: config.server,
    deviceId: config.deviceId,
    token: config.token,
    dispatcher: dependencies.dispatcher,
    now,
    randomBytes: dependencies.randomBytes,
  };
  mkdirSync(config.dataDir, { recursive: true });
  const outbox = new Outbox(config.dataDir);
  const starting = startingState(config);
  let state: AgentStateFile = starting.state;
  const rootPath = join(config.dataDir, 'root.json');
  // The newest verified root is kept, so a rotation survives restarts; the pinned one is the anchor.
  const trust = TrustStore.fromPinnedRoot(JSON.parse(readFileSync(existsSync(rootPath) ? rootPath : config.trustRoot, 'utf8')), now());
  let consecutiveErrors = 0;
  const diagnosticsDone = answeredSessions(config.dataDir);
  let lastError: unknown = null;
  const newRun = () => dependencies.randomBytes(16).toString('hex');
  // The digest checked while the bytes arrived, in this process: no need to read the file
  // again. After a restart the set is empty and `downloaded` verifies from disk.
  const verifiedWhileDownloading = new Set<string>();

  const partialPath = (sha256: string) => artifactPaths(config.dataDir, sha256).partial;
  const stagedPath = (sha256: string) => artifactPaths(config.dataDir, sha256).staged;
  const jitter = (milliseconds: number) => Math.round(milliseconds * (0.9 + dependencies.random() * 0.2));

  function persist(next: AgentStateFile): void {
    writeStateFile(config.dataDir, next);
    state = next;
    if (dependencies.crashAfterState === next.journal.state) process.kill(process.pid, 'SIGKILL');
  }

  /** Persists the new state (with any device change in the same write), then reports it. */
  function enter(
    to: AgentState,
    detail: string | null = null,
    device: Partial<AgentStateFile['device']> = {},
    journal: Partial<AgentStateFile['journal']> = {},
    delivery?: Delivery,
  ): void {
    const from = state.journal.state;
    if (from !== to && !canTransition(from, to)) throw new Error(`agent bug: no transition ${from} → ${to}`);
    const attempts = { ...state.journal.attempts, [to]: (state.journal.attempts[to] ?? 0) + 1 };
    persist({
      ...state,
      format: 1,
      device: { ...state.device, ...device },
      journal: { ...state.journal, ...journal, state: to, detail, attempts, updatedAt: now().toISOString() },
    });
    report(to, detail, undefined, delivery);
    dependencies.log(`${from} → ${to}${detail ? ` (${detail})` : ''}`);
  }

  /**
   * The event id is derived from the update run, the state and its attempt number, so the
   * report re-queued after a crash (see recover) is the same event, recorded once by the server.
   */
  function report(stateName: AgentState, detail: string | null, eventId?: string, delivery?: Delivery): void {
    const run = state.journal.run;
    const id = eventId ?? (run ? eventIdFor(run, stateName, state.journal.attempts[stateName] ?? 0) : eventIdFor(newRun(), stateName, 0));
    if (outbox.pending().some((item) => item.eventId === id)) return;
    outbox.enqueue({
      eventId: id,
      assignment: state.journal.assignment?.id ?? null,
      state: stateName,
      detail,
      at: now().toISOString(),
      ...(delivery ? { delivery } : {}),
    });
  }

  async function flushOutbox(): Promise<void> {
    await outbox.flush((item) => sendReport(protocol, item));
  }

  function fail(error: unknown, to: AgentState = 'failed'): Step {
    const detail = error instanceof AgentError ? `${error.code}: ${error.message}` : `internal: ${(error as Error).message}`;
    enter(to, detail);
    return 0;
  }

  async function talk(stateName: AgentState): Promise<CheckinAnswer> {
    const refusedRoot = await updateRoots(protocol, trust).then(
      (walked) => {
        if (walked > 0) writeFileAtomically(rootPath, JSON.stringify(trust.rootDocument));
        return null;
      },
      (error) => (error instanceof AgentError && error.code === 'root_invalid' ? error : null),
    );
    // Reports first: the server must know about a commit before it decides what to offer.
    // Reports go out even when the root is refused (they ride on the device token, not on the
    // trust root), so that the server learns of an expired or forged root.
    await flushOutbox().catch(() => {});
    if (refusedRoot) throw refusedRoot;
    const answer = await checkin(protocol, trust, {
      version: state.device.version,
      state: stateName,
      assignment: state.journal.assignment?.id ?? null,
    });
    if (answer.diagnostics && !diagnosticsDone.has(answer.diagnostics.session)) {
      // One bundle per session, of the collectors configured on this device (never commands
      // from the server); marked answered only once the server took it, so a failure retries.
      const session = answer.diagnostics.session;
      const bundle = await collectDiagnostics(config, answer.diagnostics.collect, state, now());
      await uploadDiagnostics(protocol, session, bundle).then(
        () => diagnosticsDone.add(session),
        (error) => dependencies.log(`diagnostics upload failed: ${(error as Error).message}`),
      );
    }
    return answer;
  }

  const pollDelay = (answer: CheckinAnswer) => jitter(Math.max(1, answer.pollAfterSeconds) * 1000);

  /** DESIGN.md's trust checks on an offered update, before a byte is downloaded. */
  function acceptAssignment(answer: CheckinAnswer): JournalAssignment {
    const offered = answer.assignment!;
    let manifest;
    try {
      manifest = trust.verifyManifest(offered.manifest, now());
    } catch (error) {
      if (error instanceof SigningError)
        throw new AgentError(error.code === 'expired' ? 'manifest_expired' : 'manifest_invalid', error.message);
      throw error;
    }
    const { downgrade } = checkOffer(manifest, offered.downgrade === true, {
      product: config.product,
      hardware: config.hardware,
      version: state.device.version,
    });
    return {
      id: offered.id,
      release: offered.release,
      version: manifest.version,
      manifest: offered.manifest,
      artifactUrl: new URL(offered.artifactUrl, config.server).toString(),
      sha256: manifest.artifact.sha256,
      size: manifest.artifact.size,
      downgrade,
    };
  }

  const deltaSettings = (): AgentSettings => ({
    server: config.server,
    token: config.token,
    dataDir: config.dataDir,
    enabled: config.delta.enabled,
    source: config.delta.source?.replace('{slot}', config.slots[state.device.activeSlot]) ?? null,
  });
  // Once per running image and process: where the cut cannot be remembered (a full disk), every
  // poll would otherwise read the whole image again.
  let seedPreparedFor: string | null = null;
  /** The next update's seed is made ready between polls (fetch-update.ts); a failure costs that shortcut only. */
  async function prepareSeedWhileIdle(): Promise<void> {
    const settings = deltaSettings();
    if (settings.source === null || settings.source === seedPreparedFor) return;
    seedPreparedFor = settings.source;
    try {
      await prepareSeed(settings);
    } catch (error) {
      dependencies.log(`delta: could not prepare the running image's chunks: ${(error as Error).message}`);
    }
  }

  const handlers: Record<AgentState, () => Promise<Step>> = {
    async idle() {
      const answer = await talk('idle');
      // A cancelled assignment is nothing to start (DESIGN.md: cancelled plans install nothing).
      if (answer.assignment) {
        let assignment: JournalAssignment;
        const run = newRun();
        try {
          assignment = acceptAssignment(answer);
        } catch (error) {
          // Already running exactly this version (e.g. the server has not seen our commit yet): nothing to do.
          if (error instanceof AgentError && error.code === 'up_to_date') return pollDelay(answer);
          // Refused before any download: reported against the assignment, nothing installed.
          persist({
            ...state,
            journal: { ...state.journal, run, attempts: {}, assignment: { id: answer.assignment.id } as JournalAssignment },
          });
          return fail(error);
        }
        enter('downloading', null, {}, { assignment, attempts: {}, previous: null, run });
        return 0;
      }
      await prepareSeedWhileIdle();
      return pollDelay(answer);
    },
    async downloading() {
      const assignment = state.journal.assignment!;
      let fetched: Awaited<ReturnType<typeof fetchUpdate>>;
      try {
        // By delta when the signed manifest names a chunk index and a seed image is at hand
        // (docs/delta-updates.md); by the full download otherwise or when the delta fails.
        const { chunkIndex, chunkPack } = assignment.manifest.signed as ReleaseManifest;
        fetched = await fetchUpdate(
          deltaSettings(),
          {
            release: assignment.release,
            artifactUrl: assignment.artifactUrl,
            size: assignment.size,
            sha256: assignment.sha256,
            ...(chunkIndex ? { chunkIndex } : {}),
            ...(chunkPack ? { chunkPack } : {}),
          },
          { agent: dependencies.downloadAgent, log: dependencies.log },
        );
        verifiedWhileDownloading.add(assignment.sha256);
      } catch (error) {
        if (error instanceof AgentError && (error.code === 'download_failed' || error.code === 'server_unreachable')) throw error;
        return fail(error);
      }
      enter('downloaded', fetched.note, {}, {}, fetched.delivery);
      return 0;
    },
    async downloaded() {
      const assignment = state.journal.assignment!;
      try {
        trust.verifyManifest(assignment.manifest, now());
        const digest = verifiedWhileDownloading.has(assignment.sha256)
          ? { sha256: assignment.sha256, size: assignment.size }
          : await hashFile(partialPath(assignment.sha256));
        if (digest.size !== assignment.size)
          throw new AgentError('size_mismatch', `${digest.size} bytes on disk, ${assignment.size} expected`);
        if (digest.sha256 !== assignment.sha256)
          throw new AgentError('digest_mismatch', `sha256 ${digest.sha256} on disk, ${assignment.sha256} expected`);
      } catch (error) {
        rmSync(partialPath(assignment.sha256), { force: true });
        return fail(error instanceof SigningError ? new AgentError('manifest_invalid', error.message) : error);
      }
      enter('verified');
      return 0;
    },
    async verified() {
      const assignment = state.journal.assignment!;
      mkdirSync(join(config.dataDir, 'staged'), { recursive: true });
      if (existsSync(partialPath(assignment.sha256))) renameSync(partialPath(assignment.sha256), stagedPath(assignment.sha256));
      if (!existsSync(stagedPath(assignment.sha256)))
        return fail(new AgentError('download_failed', 'the verified artifact vanished; downloading again next time'));
      enter('staged');
      return 0;
    },
    async staged() {
      enter('waiting_window');
      return 0;
    },
    async waiting_window() {
      const assignment = state.journal.assignment!;
      const answer = await talk('waiting_window');
      const answerReceivedAt = now().getTime();
      if (!answer.assignment || answer.assignment.id !== assignment.id) {
        // The plan was cancelled, paused for good or replaced: drop the staged update.
        rmSync(stagedPath(assignment.sha256), { force: true });
        enter('idle', 'cancelled: the server no longer assigns this update', {}, { assignment: null, attempts: {} });
        return pollDelay(answer);
      }
      const window = answer.assignment.window;
      // DESIGN.md, "Maintenance windows": installs only when now is inside the occurrence and the
      // expected duration still fits before its end. The server says so (installAllowed); the
      // device checks the window's bounds again. It measures them on the clock of the signed
      // answer (serverTime plus the time elapsed since), because the window is the customer's
      // agreed time and field devices' clocks drift; its own clock still judges the answer's
      // expiry (freeze and replay).
      const serverNow = Date.parse(answer.serverTime) + (now().getTime() - answerReceivedAt);
      const inside = window !== null && Date.parse(window.start) <= serverNow;
      const fits = window !== null && Date.parse(window.end) - serverNow >= config.install.expectedSeconds * 1000;
      if (answer.assignment.installAllowed && inside && fits) {
        enter('installing');
        return 0;
      }
      const untilStart = window ? Date.parse(window.start) - serverNow : Infinity;
      return Math.min(pollDelay(answer), untilStart > 0 ? untilStart + 500 : Infinity);
    },
    async installing() {
      const assignment = state.journal.assignment!;
      const target = otherSlot(state.device.activeSlot);
      const result = await dependencies.runHook(
        config.install.command,
        hookEnvironment(config, assignment, target),
        config.install.timeoutSeconds,
      );
      if (!result.ok) {
        return fail(
          new AgentError(
            result.timedOut ? 'install_timeout' : 'install_failed',
            `install hook ${result.timedOut ? 'timed out' : `exited ${result.code}`}: ${result.output.slice(-500)}`,
          ),
        );
      }
      // The atomic switch: the new active slot and the journal's health_check in one write.
      enter('health_check', null, { activeSlot: target }, { previous: { version: state.device.version, slot: state.device.activeSlot } });
      return 0;
    },
    async health_check() {
      const assignment = state.journal.assignment!;
      const result = await dependencies.runHook(
        config.health.command,
        hookEnvironment(config, assignment, state.device.activeSlot),
        config.health.timeoutSeconds,
      );
      if (!result.ok) {
        enter(
          'rolling_back',
          `${result.timedOut ? 'health_timeout' : 'health_failed'}: ${result.output.slice(-500) || `exit ${result.code}`}`,
        );
        return 0;
      }
      // The commit is one transaction: the new version and "committed" are written together.
      enter('committed', null, { version: assignment.version }, { previous: null });
      return 0;
    },
    async rolling_back() {
      const previous = state.journal.previous;
      enter('rolled_back', state.journal.detail, previous ? { activeSlot: previous.slot, version: previous.version } : {});
      return 0;
    },
    committed: finish,
    rolled_back: finish,
    failed: finish,
  };

  async function finish(): Promise<Step> {
    const assignment = state.journal.assignment;
    if (assignment?.sha256) {
      // The committed artifact stays as the next delta's seed (docs/delta-updates.md).
      if (state.journal.state === 'committed' && config.delta.keepInstalled)
        keepInstalled(config.dataDir, stagedPath(assignment.sha256), assignment.sha256, assignment.size);
      removeDeltaFiles(config.dataDir, assignment.sha256);
      rmSync(stagedPath(assignment.sha256), { force: true });
      rmSync(partialPath(assignment.sha256), { force: true });
    }
    await flushOutbox().catch(() => {});
    const outcome = state.journal.state as LastUpdate['outcome'];
    const lastUpdate: LastUpdate | undefined = assignment
      ? {
          release: assignment.release,
          version: assignment.version,
          outcome,
          at: state.journal.updatedAt,
          detail: outcome === 'committed' ? null : state.journal.detail,
          runningVersion: state.device.version,
        }
      : state.lastUpdate;
    persist({
      ...state,
      lastUpdate,
      journal: {
        state: 'idle',
        assignment: null,
        previous: null,
        attempts: {},
        detail: state.journal.detail,
        run: null,
        updatedAt: now().toISOString(),
      },
    });
    return 0;
  }

  /** On start: the recovery table, and the loop counter that gives up on a state that keeps coming back. */
  function recover(): void {
    const current = state.journal.state;
    const resume = recoveryTable[current].resume;
    const attempts = (state.journal.attempts[resume] ?? 0) + (current === 'idle' ? 0 : 1);
    if (current !== 'idle' && attempts > maximumAttempts) {
      const target = giveUpState(resume);
      dependencies.log(`recovery: ${resume} was attempted ${attempts} times; giving up (${target})`);
      persist({ ...state, journal: { ...state.journal, state: resume, attempts: { ...state.journal.attempts, [resume]: attempts } } });
      enter(target, `too_many_attempts: ${resume} kept failing after restarts`);
      return;
    }
    if (current !== 'idle') {
      // The crash may have come between persisting the state and queueing its report: queue it
      // again under the same event id (a duplicate is dropped here or by the server).
      report(
        current,
        state.journal.detail,
        state.journal.run ? eventIdFor(state.journal.run, current, state.journal.attempts[current] ?? 0) : undefined,
      );
      persist({ ...state, journal: { ...state.journal, state: resume, attempts: { ...state.journal.attempts, [resume]: attempts } } });
      dependencies.log(`recovery: ${current} → ${resume} (${recoveryTable[current].why})`);
    }
  }

  /** One step of the current state; errors talking to the server back off exponentially. */
  async function step(): Promise<Step> {
    try {
      const delay = await handlers[state.journal.state]();
      consecutiveErrors = 0;
      lastError = null;
      return delay;
    } catch (error) {
      consecutiveErrors++;
      lastError = error;
      const base = Math.min(300_000, 1000 * 2 ** Math.min(consecutiveErrors, 9));
      dependencies.log(`${state.journal.state}: ${(error as Error).message}; retrying in about ${Math.round(base / 1000)} s`);
      if ((error instanceof AgentError && error.code.startsWith('checkin_')) || (error as AgentError).code === 'root_invalid') {
        // A forged, replayed or expired answer is refused and reported; nothing it says is acted on.
        // Its own event id: the state's id belongs to the transition, already reported (and
        // recorded once by the server), and each refusal is an event of its own to count.
        report(
          state.journal.state,
          `${(error as AgentError).code}: ${(error as Error).message}`,
          eventIdFor(newRun(), state.journal.state, 0),
        );
      }
      return jitter(Math.min(base, config.pollSeconds * 1000 * 4));
    }
  }

  if (starting.corrected !== null) {
    dependencies.log(`running ${state.device.version}, as ${config.versionFile} says (the record said ${starting.corrected})`);
    persist(state);
  }
  recover();
  return {
    step,
    get state() {
      return state;
    },
    outbox,
    /**
     * One cycle (`sluice agent --once`): steps until the agent would wait (for the next poll,
     * the window or a retry). Returns the error that made it wait, if any.
     */
    async runOnce(maximumSteps = 100): Promise<{ state: AgentState; error: unknown }> {
      for (let count = 0; count < maximumSteps; count++) {
        if ((await step()) > 0) break;
      }
      return { state: state.journal.state, error: lastError };
    },
    /** Runs until `signal` aborts. */
    async run(signal: AbortSignal): Promise<void> {
      while (!signal.aborted) {
        const delay = await step();
        if (delay > 0) await sleep(delay, signal);
      }
    },
  };
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export type Agent = ReturnType<typeof createAgent>;
