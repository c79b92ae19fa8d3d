-- Clocks that people hear (issue 20, docs/notifications.md): a customer's own contract terms
-- per fault class (absent: the seed's table), the questions staff ask a customer on a fault
-- (the clock pauses until the answer), and the language of dates a contact reads.
CREATE TABLE contract_terms (
  customer TEXT NOT NULL REFERENCES customers(id),
  fault_class TEXT NOT NULL CHECK (fault_class IN ('A', 'B', 'C', 'D')),
  acknowledge_minutes INTEGER NOT NULL CHECK (acknowledge_minutes > 0),
  around_the_clock INTEGER NOT NULL CHECK (around_the_clock IN (0, 1)),
  updated_by TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (customer, fault_class)
);

CREATE TABLE fault_questions (
  id TEXT PRIMARY KEY,
  fault TEXT NOT NULL REFERENCES faults(id),
  text TEXT NOT NULL,
  asked_by TEXT NOT NULL,
  asked_at TEXT NOT NULL,
  answer TEXT,
  answered_by TEXT,
  answered_at TEXT
);
CREATE INDEX fault_questions_fault ON fault_questions(fault, asked_at);

-- BCP 47 tag the contact reads dates in; the delivery keeps the one it was written in.
ALTER TABLE notification_contacts ADD COLUMN locale TEXT;
ALTER TABLE notification_deliveries ADD COLUMN locale TEXT;
