// What every route plugin may use: the stores, the options, the trust material. Decorated
// once on the root instance by buildApp.
import type { ServerOptions } from './config.js';
import type { Db } from './storage/database.js';
import type { Store } from './storage/store.js';
import type { ArtifactStore } from './storage/artifact-store.js';
import type { Principal, Access } from './auth/principal.js';
import type { TrustRoots } from './services/trust-roots.js';
import type { DomainEventBus } from './events.js';
import type { CheckinSigner } from './services/checkin-signer.js';

export interface SluiceContext {
  /** Being retired: every caller moves to `store` (async repositories). */
  db: Db;
  store: Store;
  options: Readonly<ServerOptions>;
  artifacts: ArtifactStore;
  trust: TrustRoots;
  /** Signs check-in answers with the online key; null when no key is configured. */
  checkinSigner: CheckinSigner | null;
  events: DomainEventBus;
  /** Set by the remote-support feature: what diagnostics a device is asked for, if any. */
  diagnosticsRequest?: (device: string, now: Date) => Promise<{ session: string; collect: string[] } | null>;
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
