import type { SqlSession } from '../sql.js';

export class UserRepository {
  constructor(private readonly sql: SqlSession) {}
}
