import type { SqlSession } from '../sql.js';

export class TrustRootRepository {
  constructor(private readonly sql: SqlSession) {}
}
