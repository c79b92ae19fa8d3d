// The store: one repository per aggregate over one SQL session, and a unit of work.
// `store.transaction(async (tx) => …)` hands out the same repositories bound to one
// transaction; everything written through `tx` commits together or not at all.
import type { Dialect, SqlDatabase, SqlSession } from './sql.js';
import type { StatementObserver } from './statement-timing.js';
import { ProductRepository } from './repositories/products.js';
import { CustomerRepository } from './repositories/customers.js';
import { DeviceRepository } from './repositories/devices.js';
import { UserRepository } from './repositories/users.js';
import { ReleaseRepository } from './repositories/releases.js';
import { AuditRepository } from './repositories/audit.js';
import { TrustRootRepository } from './repositories/trust-roots.js';
import { PlanRepository } from './repositories/plans.js';
import { FaultRepository } from './repositories/faults.js';
import { SupportSessionRepository } from './repositories/support-sessions.js';
import { DdiRepository } from './repositories/ddi.js';
import { NotificationRepository } from './repositories/notifications.js';
import { StoreInspection } from './inspection.js';

export interface Store {
  readonly dialect: Dialect;
  readonly products: ProductRepository;
  readonly customers: CustomerRepository;
  readonly devices: DeviceRepository;
  readonly users: UserRepository;
  readonly releases: ReleaseRepository;
  readonly audit: AuditRepository;
  readonly trustRoots: TrustRootRepository;
  readonly plans: PlanRepository;
  readonly faults: FaultRepository;
  readonly supportSessions: SupportSessionRepository;
  readonly ddi: DdiRepository;
  readonly notifications: NotificationRepository;
  transaction<T>(work: (tx: Store) => Promise<T>): Promise<T>;
  // used by storage (H4): what is stored, per table, for tests and tools
  readonly inspection: StoreInspection;
}

export interface OpenStore extends Store {
  close(): Promise<void>;
  /** Statement and transaction times go to `observer` (the metrics plugin); null stops. */
  observeStatements(observer: StatementObserver | null): void;
}

function bind(session: SqlSession): Store {
  return {
    dialect: session.dialect,
    products: new ProductRepository(session),
    customers: new CustomerRepository(session),
    devices: new DeviceRepository(session),
    users: new UserRepository(session),
    releases: new ReleaseRepository(session),
    audit: new AuditRepository(session),
    trustRoots: new TrustRootRepository(session),
    plans: new PlanRepository(session),
    faults: new FaultRepository(session),
    supportSessions: new SupportSessionRepository(session),
    ddi: new DdiRepository(session),
    notifications: new NotificationRepository(session),
    transaction: (work) => session.transaction((inner) => work(bind(inner))),
    // used by storage (H4)
    inspection: new StoreInspection(session),
  };
}

export function createStore(database: SqlDatabase): OpenStore {
  return { ...bind(database), close: () => database.close(), observeStatements: (observer) => database.observeStatements(observer) };
}
