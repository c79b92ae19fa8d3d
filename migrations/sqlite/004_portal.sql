-- Web portal sessions (stored as hashes, like tokens) and login failures for rate limiting.
CREATE TABLE portal_sessions (
  hash TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  csrf TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE TABLE login_failures (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT NOT NULL,
  address TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX login_failures_lookup ON login_failures(username, at);
