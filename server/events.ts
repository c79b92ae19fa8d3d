// In-process domain events, so that one feature reacts to another without the two importing
// each other (a release that fixes faults moves them; a new device joins a plan's last wave).
// Listeners run inside the request that emitted, awaited in turn, and write through the
// emitter's transaction (`tx`), so their rows commit or roll back with the change that caused
// them: nothing that matters lives only in memory (DESIGN.md, "One machine first, many later").
import type { Store } from './storage/store.js';

export interface DomainEvents {
  'device.created': { device: string; at: Date };
  'release.published': { release: string; product: string; version: string; fixes: string[]; actor: string; at: Date };
  'release.yanked': { release: string; actor: string; at: Date };
  'device.state': { device: string; plan: string | null; release: string | null; state: string; detail: string | null; at: Date };
}

type Listener<K extends keyof DomainEvents> = (event: DomainEvents[K], tx: Store) => void | Promise<void>;

export class DomainEventBus {
  private readonly listeners = new Map<keyof DomainEvents, Listener<never>[]>();
  on<K extends keyof DomainEvents>(name: K, listener: Listener<K>): void {
    this.listeners.set(name, [...(this.listeners.get(name) ?? []), listener as Listener<never>]);
  }
  async emit<K extends keyof DomainEvents>(name: K, event: DomainEvents[K], tx: Store): Promise<void> {
    for (const listener of (this.listeners.get(name) ?? []) as Listener<K>[]) await listener(event, tx);
  }
}
