import type { SqlSession } from '../sql.js';

export class SupportSessionRepository {
  constructor(private readonly sql: SqlSession) {}
}
