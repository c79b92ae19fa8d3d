import type { SqlSession } from '../sql.js';

export class LeaseRepository {
  constructor(private readonly sql: SqlSession) {}
}
