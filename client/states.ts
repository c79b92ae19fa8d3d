// The agent's states (DESIGN.md, "Device agent") as data: the transitions it may take, and
// the recovery table that says, for every state the device may have died in, where it
// resumes (STYLE.md: Mender's initState). Pure: no I/O.

export const agentStates = [
  'idle',
  'downloading',
  'downloaded',
  'verified',
  'staged',
  'waiting_window',
  'installing',
  'health_check',
  'committed',
  'rolling_back',
  'rolled_back',
  'failed',
] as const;
export type AgentState = (typeof agentStates)[number];

export const agentTransitions: readonly { from: AgentState; to: AgentState }[] = [
  { from: 'idle', to: 'downloading' },
  { from: 'downloading', to: 'downloaded' },
  { from: 'downloaded', to: 'verified' },
  { from: 'verified', to: 'staged' },
  { from: 'staged', to: 'waiting_window' },
  { from: 'waiting_window', to: 'installing' },
  { from: 'installing', to: 'health_check' },
  { from: 'health_check', to: 'committed' },
  { from: 'health_check', to: 'rolling_back' },
  { from: 'rolling_back', to: 'rolled_back' },
  // Any step before the slot switch can fail; the old slot stays active. From idle: an offered
  // update refused by the trust checks before a byte is downloaded.
  ...(['idle', 'downloading', 'downloaded', 'verified', 'staged', 'waiting_window', 'installing'] as const).map((from) => ({
    from,
    to: 'failed' as const,
  })),
  // A plan cancelled before the install: the staged update is dropped.
  ...(['downloading', 'downloaded', 'verified', 'staged', 'waiting_window'] as const).map((from) => ({ from, to: 'idle' as const })),
  // Finished updates return to idle once reported.
  ...(['committed', 'rolled_back', 'failed'] as const).map((from) => ({ from, to: 'idle' as const })),
];

export function canTransition(from: AgentState, to: AgentState): boolean {
  return agentTransitions.some((row) => row.from === from && row.to === to);
}

export interface Recovery {
  /** The state the agent resumes in. */
  resume: AgentState;
  why: string;
}

/**
 * After a crash or power loss in `state`, where the agent resumes. The invariant (DESIGN.md):
 * the device ends on the old version or on the new, committed one, never in between. The slot
 * switch and the commit are each one atomic write of the state file, so before the switch the
 * old slot is active and after the commit the new one is.
 */
export const recoveryTable: Record<AgentState, Recovery> = {
  idle: { resume: 'idle', why: 'nothing in flight' },
  downloading: { resume: 'downloading', why: 'resume the download with Range from the bytes on disk' },
  downloaded: { resume: 'downloaded', why: 'verify again: the check may not have finished' },
  verified: { resume: 'verified', why: 'stage again: staging is idempotent' },
  staged: { resume: 'staged', why: 'the staged artifact is verified on disk' },
  waiting_window: { resume: 'waiting_window', why: 'keep waiting for the window' },
  installing: { resume: 'waiting_window', why: 'the old slot is still active; install again, inside the window' },
  health_check: { resume: 'health_check', why: 'the new slot is active but uncommitted: check its health again' },
  committed: { resume: 'committed', why: 'report the commit, then go idle' },
  rolling_back: { resume: 'rolling_back', why: 'finish switching back to the old slot' },
  rolled_back: { resume: 'rolled_back', why: 'report the rollback, then go idle' },
  failed: { resume: 'failed', why: 'report the failure, then go idle' },
};

/**
 * A state that keeps coming back after restarts gives up instead of looping forever
 * (STYLE.md, Mender's loop counter): before the slot switch the update fails; after it, the
 * device rolls back to the old slot.
 */
export const maximumAttempts = 5;

export function giveUpState(state: AgentState): AgentState {
  return state === 'health_check' || state === 'rolling_back' ? 'rolling_back' : 'failed';
}

// The one list of what each state means to the server too (a plan's progress, its waves, its
// concurrency cap): the server reads these sets rather than keeping its own.

/** States that end a device's part in an update: committed, or back on the old version. */
export const finishedStates: ReadonlySet<string> = new Set<AgentState>(['committed', 'rolled_back', 'failed']);
/** Finished states in which the update did not take. */
export const failedStates: ReadonlySet<string> = new Set<AgentState>(['failed', 'rolled_back']);
/** States in which a device holds one of its plan's install slots (the plan's concurrency cap). */
export const installingStates: ReadonlySet<string> = new Set<AgentState>(['installing', 'health_check']);
