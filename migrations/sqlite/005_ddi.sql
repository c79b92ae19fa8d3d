-- hawkBit DDI compatibility: actions (the numeric ids DDI clients track) and gateway tokens.
CREATE TABLE ddi_actions (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  plan TEXT NOT NULL REFERENCES plans(id),
  device TEXT NOT NULL REFERENCES devices(id),
  status TEXT NOT NULL CHECK (status IN ('open', 'canceling', 'closed', 'canceled')),
  -- What the last deploymentBase answer told the device to do with the update: forced or skip.
  last_update TEXT,
  created_at TEXT NOT NULL,
  closed_at TEXT
);
CREATE UNIQUE INDEX ddi_actions_one_open ON ddi_actions(plan, device) WHERE status IN ('open', 'canceling');
CREATE INDEX ddi_actions_device ON ddi_actions(device);

CREATE TABLE ddi_gateway_tokens (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  tenant TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);

CREATE TABLE ddi_config_data (
  device TEXT PRIMARY KEY REFERENCES devices(id),
  data TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
