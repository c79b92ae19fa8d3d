import { isUniqueViolation, type SqlSession } from '../sql.js';
import { SluiceError } from '../../errors.js';
import { toDate, type Customer } from './records.js';
import type { ClassTerms } from '../../domain/contract-terms.js';

interface TermsRow {
  customer: string;
  fault_class: string;
  acknowledge_minutes: number | string;
  around_the_clock: number | string;
}
export type OwnTerms = Partial<Record<string, ClassTerms>>;

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

  /** The classes each customer's contract changes (contract-terms.ts); a customer without any has none. */
  async contractTerms(customers: readonly string[]): Promise<Map<string, OwnTerms>> {
    const terms = new Map<string, OwnTerms>(customers.map((customer) => [customer, {}]));
    if (customers.length === 0) return terms;
    const rows = await this.sql.all<TermsRow>(
      `SELECT customer, fault_class, acknowledge_minutes, around_the_clock FROM contract_terms WHERE customer IN (${customers.map(() => '?').join(', ')})`,
      [...customers],
    );
    for (const row of rows)
      terms.get(row.customer)![row.fault_class] = {
        acknowledgeMinutes: Number(row.acknowledge_minutes),
        aroundTheClock: Number(row.around_the_clock) === 1,
      };
    return terms;
  }

  /** Replaces the customer's terms with `changed` (the classes that differ from the seed's table). */
  async saveContractTerms(customer: string, changed: OwnTerms, actor: string, now: Date): Promise<void> {
    await this.sql.run('DELETE FROM contract_terms WHERE customer = ?', [customer]);
    for (const [faultClass, terms] of Object.entries(changed)) {
      if (!terms) continue;
      await this.sql.run(
        'INSERT INTO contract_terms (customer, fault_class, acknowledge_minutes, around_the_clock, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?)',
        [customer, faultClass, terms.acknowledgeMinutes, terms.aroundTheClock ? 1 : 0, actor, now.toISOString()],
      );
    }
  }
}
