import type { SqlSession } from '../sql.js';

export class PlanRepository {
  constructor(private readonly sql: SqlSession) {}
}
