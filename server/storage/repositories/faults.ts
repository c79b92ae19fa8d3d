import type { SqlSession } from '../sql.js';

export class FaultRepository {
  constructor(private readonly sql: SqlSession) {}
}
