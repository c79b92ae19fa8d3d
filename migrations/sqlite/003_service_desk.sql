-- Service desk: faults with contractual clocks, consent-gated remote support sessions.
CREATE TABLE faults (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  customer TEXT NOT NULL REFERENCES customers(id),
  device TEXT REFERENCES devices(id),
  plan TEXT REFERENCES plans(id),
  class TEXT NOT NULL CHECK (class IN ('A', 'B', 'C', 'D')),
  severity TEXT NOT NULL CHECK (severity IN ('major', 'general')),
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  source TEXT NOT NULL,
  reported_by TEXT NOT NULL,
  reported_at TEXT NOT NULL,
  acknowledged_by TEXT,
  acknowledged_at TEXT,
  fix_release TEXT REFERENCES releases(id),
  fix_available_at TEXT,
  resolved_by TEXT,
  resolved_at TEXT,
  resolution TEXT,
  closed_at TEXT
);
CREATE INDEX faults_customer ON faults(customer, status);
CREATE INDEX faults_reported ON faults(reported_at);
CREATE UNIQUE INDEX faults_one_per_failed_update ON faults(device, plan) WHERE source = 'agent';

CREATE TABLE support_sessions (
  id TEXT PRIMARY KEY,
  device TEXT NOT NULL REFERENCES devices(id),
  customer TEXT NOT NULL REFERENCES customers(id),
  reason TEXT NOT NULL,
  collect TEXT NOT NULL,
  status TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  expires_at TEXT,
  withdrawn_at TEXT,
  uploaded_at TEXT,
  bundle_sha256 TEXT,
  bundle_size INTEGER
);
CREATE INDEX support_sessions_device ON support_sessions(device, status);
