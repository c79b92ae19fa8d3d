import type { SqlSession } from '../sql.js';

export class DdiRepository {
  constructor(private readonly sql: SqlSession) {}
}
