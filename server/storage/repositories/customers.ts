import { isUniqueViolation, type SqlSession } from '../sql.js';
import { SluiceError } from '../../errors.js';
import { toDate, type Customer } from './records.js';

interface CustomerRow {
  id: string;
  name: string;
  timezone: string;
  created_at: string;
}
const toCustomer = (row: CustomerRow): Customer => ({
  id: row.id,
  name: row.name,
  timezone: row.timezone,
  createdAt: toDate(row.created_at),
});

export class CustomerRepository {
  constructor(private readonly sql: SqlSession) {}

  async create(input: { id: string; name: string; timezone: string }, now: Date): Promise<Customer> {
    try {
      await this.sql.run('INSERT INTO customers (id, name, timezone, created_at) VALUES (?, ?, ?, ?)', [
        input.id,
        input.name,
        input.timezone,
        now.toISOString(),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new SluiceError('already_exists', `customer "${input.id}" already exists`);
      throw error;
    }
    return { ...input, createdAt: now };
  }

  async get(id: string): Promise<Customer | undefined> {
    const row = await this.sql.get<CustomerRow>('SELECT * FROM customers WHERE id = ?', [id]);
    return row && toCustomer(row);
  }

  /** Every customer, or only `only` (a customer user sees itself). */
  async list(only: string | null = null): Promise<Customer[]> {
    const rows = only
      ? await this.sql.all<CustomerRow>('SELECT * FROM customers WHERE id = ?', [only])
      : await this.sql.all<CustomerRow>('SELECT * FROM customers ORDER BY id');
    return rows.map(toCustomer);
  }
}
