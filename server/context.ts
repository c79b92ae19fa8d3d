// What every route plugin may use: the stores, the options, the trust material. Decorated
// once on the root instance by buildApp.
import type { KeyObject } from 'node:crypto';
import type { ServerOptions } from './config.js';
import type { Db } from './storage/database.js';
import type { ArtifactStore } from './storage/artifact-store.js';
import type { Principal, Access } from './auth/principal.js';
import type { TrustRoots } from './trust-roots.js';
import type { DomainEventBus } from './events.js';

export interface SluiceContext {
  db: Db;
  options: Readonly<ServerOptions>;
  artifacts: ArtifactStore;
  trust: TrustRoots;
  /** The online key that signs check-in answers; null when none is configured. */
  serverKey: KeyObject | null;
  events: DomainEventBus;
  /** Set by the remote-support feature: what diagnostics a device is asked for, if any. */
  diagnosticsRequest?: (device: string, now: Date) => { session: string; collect: string[] } | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    sluice: SluiceContext;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: readonly Access[];
  }
}
