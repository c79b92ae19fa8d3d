-- Upgrade plans (DESIGN.md, "Upgrade plans"), their devices and waves, and the frozen
-- numbered versions of the written plan.
CREATE TABLE plans (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL DEFAULT 'upgrade' CHECK (kind IN ('upgrade', 'commissioning')),
  customer TEXT NOT NULL REFERENCES customers(id),
  release TEXT REFERENCES releases(id),
  status TEXT NOT NULL,
  -- The state a paused plan resumes to.
  paused_from TEXT,
  windows TEXT NOT NULL,
  waves TEXT NOT NULL,
  seed TEXT NOT NULL,
  deadline TEXT NOT NULL,
  notes TEXT NOT NULL DEFAULT '',
  details TEXT,
  max_concurrent INTEGER,
  expected_install_seconds INTEGER NOT NULL,
  confirmed_window INTEGER,
  confirmed_by TEXT,
  confirmed_at TEXT,
  maintainer TEXT,
  counter_comment TEXT,
  document_version INTEGER NOT NULL DEFAULT 0,
  overdue_reason TEXT,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX plans_customer_status ON plans(customer, status);
CREATE INDEX plans_release ON plans(release);

CREATE TABLE plan_devices (
  plan TEXT NOT NULL REFERENCES plans(id),
  device TEXT NOT NULL REFERENCES devices(id),
  wave INTEGER,
  state TEXT,
  state_at TEXT,
  joined_at TEXT NOT NULL,
  PRIMARY KEY (plan, device)
);
CREATE INDEX plan_devices_device ON plan_devices(device);

CREATE TABLE plan_waves (
  plan TEXT NOT NULL REFERENCES plans(id),
  wave INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  opened_at TEXT,
  finished_at TEXT,
  PRIMARY KEY (plan, wave)
);

CREATE TABLE plan_documents (
  plan TEXT NOT NULL REFERENCES plans(id),
  version INTEGER NOT NULL,
  markdown TEXT NOT NULL,
  html TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (plan, version)
);
