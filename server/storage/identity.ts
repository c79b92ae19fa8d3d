// Users, tokens, products, customers and devices: the rows the rest of the domain hangs on.
import { randomUUID } from 'node:crypto';
import type { Db } from './database.js';
import { generateToken, hashToken } from '../auth/tokens.js';
import type { Role } from '../auth/principal.js';
import { SluiceError } from '../errors.js';

export interface ProductRow { id: string; name: string; created_at: string }
export interface CustomerRow { id: string; name: string; timezone: string; created_at: string }
export interface DeviceRow {
  id: string; customer: string; product: string; hardware: string; version: string;
  state: string | null; last_seen_at: string | null; created_at: string;
}
export interface UserRow { id: string; username: string; role: Role; customer: string | null; password_hash: string | null; created_at: string }

export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || (error as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function createUser(db: Db, input: { username: string; role: Role; customer?: string | null; passwordHash?: string | null }, now: Date) {
  if (input.role === 'customer' && !input.customer) throw new SluiceError('validation_failed', 'a customer user needs "customer"');
  if (input.role !== 'customer' && input.customer) throw new SluiceError('validation_failed', 'only customer users belong to a customer');
  if (input.customer && !getCustomer(db, input.customer)) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
  const id = randomUUID();
  const token = generateToken('u');
  try {
    db.transaction(() => {
      db.prepare('INSERT INTO users (id, username, role, customer, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(id, input.username, input.role, input.customer ?? null, input.passwordHash ?? null, now.toISOString());
      db.prepare('INSERT INTO tokens (hash, user_id, created_at) VALUES (?, ?, ?)').run(hashToken(token), id, now.toISOString());
    })();
  } catch (error) {
    if (isUniqueViolation(error)) throw new SluiceError('already_exists', `user "${input.username}" already exists`);
    throw error;
  }
  return { id, token };
}

export function getUserByName(db: Db, username: string): UserRow | undefined {
  return db.prepare('SELECT * FROM users WHERE username = ?').get(username) as UserRow | undefined;
}

export function createProduct(db: Db, input: { id: string; name: string }, now: Date): ProductRow {
  try {
    db.prepare('INSERT INTO products (id, name, created_at) VALUES (?, ?, ?)').run(input.id, input.name, now.toISOString());
  } catch (error) {
    if (isUniqueViolation(error)) throw new SluiceError('already_exists', `product "${input.id}" already exists`);
    throw error;
  }
  return getProduct(db, input.id)!;
}

export const getProduct = (db: Db, id: string) => db.prepare('SELECT * FROM products WHERE id = ?').get(id) as ProductRow | undefined;
export const listProducts = (db: Db) => db.prepare('SELECT * FROM products ORDER BY id').all() as ProductRow[];

export function createCustomer(db: Db, input: { id: string; name: string; timezone: string }, now: Date): CustomerRow {
  try {
    db.prepare('INSERT INTO customers (id, name, timezone, created_at) VALUES (?, ?, ?, ?)').run(input.id, input.name, input.timezone, now.toISOString());
  } catch (error) {
    if (isUniqueViolation(error)) throw new SluiceError('already_exists', `customer "${input.id}" already exists`);
    throw error;
  }
  return getCustomer(db, input.id)!;
}

export const getCustomer = (db: Db, id: string) => db.prepare('SELECT * FROM customers WHERE id = ?').get(id) as CustomerRow | undefined;
export const listCustomers = (db: Db, only: string | null) =>
  (only
    ? db.prepare('SELECT * FROM customers WHERE id = ?').all(only)
    : db.prepare('SELECT * FROM customers ORDER BY id').all()) as CustomerRow[];

export function createDevice(db: Db, input: { id: string; customer: string; product: string; hardware: string; version: string }, now: Date) {
  if (!getCustomer(db, input.customer)) throw new SluiceError('unknown_customer', `no customer "${input.customer}"`);
  if (!getProduct(db, input.product)) throw new SluiceError('unknown_product', `no product "${input.product}"`);
  const token = generateToken('d');
  try {
    db.transaction(() => {
      db.prepare('INSERT INTO devices (id, customer, product, hardware, version, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(input.id, input.customer, input.product, input.hardware, input.version, now.toISOString());
      db.prepare('INSERT INTO tokens (hash, device_id, created_at) VALUES (?, ?, ?)').run(hashToken(token), input.id, now.toISOString());
    })();
  } catch (error) {
    if (isUniqueViolation(error)) throw new SluiceError('already_exists', `device "${input.id}" already exists`);
    throw error;
  }
  return { id: input.id, token };
}

export const getDevice = (db: Db, id: string) => db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as DeviceRow | undefined;

export function listDevices(db: Db, filter: { customer?: string | null; product?: string }): DeviceRow[] {
  const clauses: string[] = [];
  const values: string[] = [];
  if (filter.customer) { clauses.push('customer = ?'); values.push(filter.customer); }
  if (filter.product) { clauses.push('product = ?'); values.push(filter.product); }
  const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
  return db.prepare(`SELECT * FROM devices ${where} ORDER BY id`).all(...values) as DeviceRow[];
}

export function deviceHistory(db: Db, device: string, limit = 100) {
  return db.prepare('SELECT event_id, assignment, plan, release, state, detail, progress, at, received_at FROM device_events WHERE device = ? ORDER BY id DESC LIMIT ?')
    .all(device, limit) as { event_id: string; assignment: string | null; plan: string | null; release: string | null; state: string; detail: string | null; progress: number | null; at: string; received_at: string }[];
}
