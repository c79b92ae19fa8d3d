// What every route plugin may use: the stores, the options, the trust material. Decorated
// once on the root instance by buildApp.
import type { ServerOptions } from './config.js';
import type { Store } from './storage/store.js';
import type { ArtifactStore } from './storage/artifact-store.js';
import type { Principal, Access } from './auth/principal.js';
import type { TrustRoots } from './services/trust-roots.js';
import type { DomainEventBus } from './events.js';
import type { CheckinSigner } from './services/checkin-signer.js';
import type { ServerMetrics } from './metrics/registry.js';

export interface SluiceContext {
  store: Store;
  options: Readonly<ServerOptions>;
  /** Release artifacts, under their sha256. */
  artifacts: ArtifactStore;
  /** Diagnostics bundles, under their support session's id. */
  bundles: ArtifactStore;
  trust: TrustRoots;
  /** Signs check-in answers with the online key; null when no key is configured. */
  checkinSigner: CheckinSigner | null;
  events: DomainEventBus;
  /** Set by the metrics plugin (plugins/metrics.ts); counted where things happen. */
  metrics?: ServerMetrics;
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
