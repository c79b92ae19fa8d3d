-- Notifications (issue 20): webhooks, the people notified by e-mail, a durable outbox of
-- events written in the transaction of the change that caused them, one delivery per event
-- and recipient, every attempt, and the lease the delivery worker holds.
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  secret TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  deleted_at TEXT
);

-- Who receives e-mail, in which zone, and who is on call or the escalation contact.
CREATE TABLE notification_contacts (
  username TEXT PRIMARY KEY REFERENCES users(username),
  email TEXT NOT NULL,
  timezone TEXT,
  on_call INTEGER NOT NULL DEFAULT 0,
  escalation INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);

-- One row per event; event_key makes an event (a timed one above all) happen once however
-- many processes decide it. The worker fans an event out to its recipients once
-- (fanned_out_at, set by a conditional update).
CREATE TABLE notifications (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  event_key TEXT NOT NULL UNIQUE,
  subject TEXT NOT NULL,
  customer TEXT,
  fault_class TEXT,
  payload TEXT NOT NULL,
  created_at TEXT NOT NULL,
  fanned_out_at TEXT
);
CREATE INDEX notifications_subject ON notifications(subject, created_at);
CREATE INDEX notifications_fan_out ON notifications(fanned_out_at, created_at);

CREATE TABLE notification_deliveries (
  id TEXT PRIMARY KEY,
  notification TEXT NOT NULL REFERENCES notifications(id),
  channel TEXT NOT NULL CHECK (channel IN ('webhook', 'email')),
  target TEXT NOT NULL,
  address TEXT NOT NULL,
  timezone TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT NOT NULL,
  delivered_at TEXT,
  UNIQUE (notification, channel, target)
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(status, next_attempt_at);

CREATE TABLE notification_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery TEXT NOT NULL REFERENCES notification_deliveries(id),
  at TEXT NOT NULL,
  ok INTEGER NOT NULL,
  status_code INTEGER,
  error TEXT,
  worker TEXT NOT NULL
);
CREATE INDEX notification_attempts_delivery ON notification_attempts(delivery, id);

CREATE TABLE worker_leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
