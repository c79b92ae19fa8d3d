import { isUniqueViolation, type SqlSession } from '../sql.js';
import { SluiceError } from '../../errors.js';
import { toDate, type Product } from './records.js';

interface ProductRow {
  id: string;
  name: string;
  created_at: string;
}
const toProduct = (row: ProductRow): Product => ({ id: row.id, name: row.name, createdAt: toDate(row.created_at) });

export class ProductRepository {
  constructor(private readonly sql: SqlSession) {}

  async create(input: { id: string; name: string }, now: Date): Promise<Product> {
    try {
      await this.sql.run('INSERT INTO products (id, name, created_at) VALUES (?, ?, ?)', [input.id, input.name, now.toISOString()]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new SluiceError('already_exists', `product "${input.id}" already exists`);
      throw error;
    }
    return { id: input.id, name: input.name, createdAt: now };
  }

  async get(id: string): Promise<Product | undefined> {
    const row = await this.sql.get<ProductRow>('SELECT * FROM products WHERE id = ?', [id]);
    return row && toProduct(row);
  }

  async list(): Promise<Product[]> {
    return (await this.sql.all<ProductRow>('SELECT * FROM products ORDER BY id')).map(toProduct);
  }
}
