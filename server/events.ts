// In-process domain events, so that one feature reacts to another without the two importing
// each other (a release that fixes faults moves them; a new device joins a plan's last wave).
// Listeners run synchronously inside the request that emitted, and write to the database:
// nothing that matters lives only in memory (DESIGN.md, "One machine first, many later").
import { EventEmitter } from 'node:events';

export interface DomainEvents {
  'device.created': { device: string; at: Date };
  'release.published': { release: string; product: string; version: string; fixes: string[]; actor: string; at: Date };
  'release.yanked': { release: string; actor: string; at: Date };
  'device.state': { device: string; plan: string | null; release: string | null; state: string; detail: string | null; at: Date };
}

export class DomainEventBus {
  private readonly emitter = new EventEmitter();
  on<K extends keyof DomainEvents>(name: K, listener: (event: DomainEvents[K]) => void): void {
    this.emitter.on(name, listener);
  }
  emit<K extends keyof DomainEvents>(name: K, event: DomainEvents[K]): void {
    this.emitter.emit(name, event);
  }
}
