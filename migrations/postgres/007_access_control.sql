-- Sign-in limits (issue 15): one counter per account and per address, reserved before the
-- password is hashed with a conditional upsert, so parallel guesses and several server
-- processes share one count. It replaces the log of failures, which could not be reserved
-- atomically.
DROP TABLE login_failures;
CREATE TABLE sign_in_limits (
  key TEXT PRIMARY KEY,
  window_start TEXT NOT NULL,
  attempts INTEGER NOT NULL
);
CREATE INDEX sign_in_limits_window ON sign_in_limits(window_start);

-- A gateway token acts for one customer's devices only. Tokens made before had no customer:
-- with exactly one customer they become that customer's; otherwise they stop working
-- (a token without a customer is never accepted) until replaced by scoped ones.
ALTER TABLE ddi_gateway_tokens ADD COLUMN customer TEXT REFERENCES customers(id);
UPDATE ddi_gateway_tokens SET customer = (SELECT MIN(id) FROM customers) WHERE (SELECT COUNT(*) FROM customers) = 1;

-- Rotating or revoking the tokens of one user or device finds them without reading them all.
CREATE INDEX tokens_user ON tokens(user_id);
CREATE INDEX tokens_device ON tokens(device_id);
