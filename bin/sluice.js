#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so a fresh clone works right after
// `npm install` without a build step. Production servers run the built form instead
// (`npm run build`, then `node dist/server/sluice.mjs`; README "Running in production").
import { register } from 'tsx/esm/api';
register();
await import('../cli/run.ts');
