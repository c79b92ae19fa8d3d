-- Foundation: identities, fleet, trust roots, releases, audit.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL CHECK (role IN ('admin', 'release', 'support', 'customer')),
  customer TEXT REFERENCES customers(id),
  password_hash TEXT,
  created_at TEXT NOT NULL
);

-- Tokens are random and stored only as their SHA-256; the plain token is shown once.
CREATE TABLE tokens (
  hash TEXT PRIMARY KEY,
  user_id TEXT REFERENCES users(id),
  device_id TEXT REFERENCES devices(id),
  created_at TEXT NOT NULL,
  revoked_at TEXT,
  CHECK ((user_id IS NULL) <> (device_id IS NULL))
);

CREATE TABLE products (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE customers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  timezone TEXT NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  customer TEXT NOT NULL REFERENCES customers(id),
  product TEXT NOT NULL REFERENCES products(id),
  hardware TEXT NOT NULL,
  version TEXT NOT NULL,
  state TEXT,
  last_seen_at TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX devices_customer_product ON devices(customer, product);
CREATE INDEX devices_product ON devices(product);

CREATE TABLE trust_roots (
  version INTEGER PRIMARY KEY,
  document TEXT NOT NULL
);

CREATE TABLE releases (
  id TEXT PRIMARY KEY,
  product TEXT NOT NULL REFERENCES products(id),
  version TEXT NOT NULL,
  manifest TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL,
  sha1 TEXT NOT NULL,
  md5 TEXT NOT NULL,
  published_at TEXT NOT NULL,
  published_by TEXT NOT NULL,
  yanked_at TEXT,
  yank_reason TEXT,
  UNIQUE (product, version)
);

CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  subject TEXT NOT NULL,
  details TEXT
);
CREATE INDEX audit_subject ON audit(subject);

-- Every state a device reports (DESIGN.md: every transition is reported to the server).
-- event_id makes a resend from the agent's outbox idempotent.
CREATE TABLE device_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  device TEXT NOT NULL REFERENCES devices(id),
  event_id TEXT NOT NULL UNIQUE,
  assignment TEXT,
  plan TEXT,
  release TEXT,
  state TEXT NOT NULL,
  detail TEXT,
  progress REAL,
  at TEXT NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX device_events_device ON device_events(device, id);
CREATE INDEX device_events_plan ON device_events(plan, device);
