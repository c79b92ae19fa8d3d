// The error catalogue, its page and the code agree both ways (as fastify's
// test/internals/errors.test.js keeps its codes and its Errors page in step): every code the
// server can answer with is catalogued, every catalogued code is answered somewhere, and
// docs/errors.md lists exactly the catalogue's codes with the catalogue's statuses. The
// agent's codes and their section of the page are held to the same rule.
import t from 'tap';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SluiceError, errorCatalogue, errorStatus, isErrorCode, type ErrorCode } from '../../server/errors.js';
import { frameworkCodes, genericCodes, parserRefusals, routerRefusals } from '../../server/plugins/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const catalogued = Object.keys(errorCatalogue) as ErrorCode[];

function typeScriptFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return typeScriptFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

interface Use {
  code: string;
  where: string;
}

/** Codes written literally where the server throws or answers: `new SluiceError('x'` and `errorBody('x'`. */
function literalUses(): Use[] {
  const uses: Use[] = [];
  const pattern = /(?:new\s+SluiceError|errorBody)\(\s*(['"`])([^'"`]*)\1/g;
  for (const path of typeScriptFiles(join(root, 'server'))) {
    const text = readFileSync(path, 'utf8');
    for (const match of text.matchAll(pattern)) {
      const line = text.slice(0, match.index).split('\n').length;
      uses.push({ code: match[2], where: `${relative(root, path)}:${line}` });
    }
  }
  return uses;
}

/** Codes the error handler answers with for errors that are not SluiceErrors. */
function mappedUses(): Use[] {
  return [
    ...Object.entries(frameworkCodes).map(([from, code]) => ({ code, where: `frameworkCodes.${from}` })),
    ...Object.entries(genericCodes).map(([status, code]) => ({ code, where: `genericCodes[${status}]` })),
    ...Object.entries(parserRefusals).map(([from, refusal]) => ({ code: refusal.code, where: `parserRefusals.${from}` })),
    ...Object.entries(routerRefusals).map(([from, code]) => ({ code, where: `routerRefusals.${from}` })),
  ];
}

/** `| \`code\` | status | …` rows of one `## heading` section of docs/errors.md. */
function documentedRows(heading: string): Map<string, string> {
  const page = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
  const start = page.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/errors.md has no "## ${heading}" section`);
  const end = page.indexOf('\n## ', start + 1);
  const section = page.slice(start, end < 0 ? undefined : end);
  const rows = new Map<string, string>();
  for (const match of section.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|\s*([^|]*?)\s*\|/gm)) {
    if (rows.has(match[1])) throw new Error(`docs/errors.md lists ${match[1]} twice under "${heading}"`);
    rows.set(match[1], match[2]);
  }
  return rows;
}

t.test('every code the server throws or answers with is in the catalogue', async (t) => {
  const uses = [...literalUses(), ...mappedUses()];
  t.ok(uses.length > 50, `found ${uses.length} uses (the search itself works)`);
  const unknown = uses.filter((use) => !isErrorCode(use.code)).map((use) => `${use.code} at ${use.where}`);
  t.same(unknown, [], 'codes used but not catalogued in server/errors.ts');
});

t.test('every catalogued code is thrown or answered somewhere', async (t) => {
  // internal_error too: the handler answers it literally, as its last resort.
  const used = new Set([...literalUses(), ...mappedUses()].map((use) => use.code));
  t.same(
    catalogued.filter((code) => !used.has(code)),
    [],
    'catalogued codes nothing answers with: remove them, or throw them',
  );
});

t.test('statuses: client errors are 4xx, only internal_error is a 5xx, and the handler agrees', async (t) => {
  for (const code of catalogued) {
    const { status, meaning } = errorCatalogue[code];
    if (code === 'internal_error') t.equal(status, 500, code);
    else t.ok(status >= 400 && status < 500, `${code} is a client error (${status})`);
    t.ok(meaning.length > 10, `${code} says what it means`);
    t.equal(errorStatus[code], status, `errorStatus.${code}`);
    t.equal(new SluiceError(code, 'x').status, status, `SluiceError('${code}').status`);
  }
  // A client error fastify raises without a code of its own gets the code of its status.
  for (const [status, code] of Object.entries(genericCodes)) t.equal(errorStatus[code], Number(status), `genericCodes[${status}]`);
});

t.test('docs/errors.md lists exactly the catalogue, with its statuses', async (t) => {
  const rows = documentedRows('Server codes');
  t.same(
    catalogued.filter((code) => !rows.has(code)),
    [],
    'catalogued but not documented',
  );
  t.same(
    [...rows.keys()].filter((code) => !isErrorCode(code)),
    [],
    'documented but not catalogued',
  );
  for (const [code, status] of rows) {
    if (isErrorCode(code)) t.equal(status, String(errorCatalogue[code].status), `${code}: the page's status is the catalogue's`);
  }
});

t.test("docs/errors.md lists exactly the agent's codes", async (t) => {
  const source = readFileSync(join(root, 'client', 'errors.ts'), 'utf8');
  const union = /export type AgentErrorCode =([^;]*);/.exec(source);
  t.ok(union, 'client/errors.ts declares AgentErrorCode');
  const codes = [...(union?.[1] ?? '').matchAll(/'([a-z0-9_]+)'/g)].map((match) => match[1]);
  t.ok(codes.length > 10, `found ${codes.length} agent codes`);
  const rows = documentedRows('Agent codes');
  t.same(
    codes.filter((code) => !rows.has(code)),
    [],
    'agent codes not documented',
  );
  t.same(
    [...rows.keys()].filter((code) => !codes.includes(code)),
    [],
    'documented agent codes the agent does not have',
  );
});
