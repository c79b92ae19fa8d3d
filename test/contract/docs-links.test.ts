// The documentation stands on its own: every link in README.md and docs/ leads to a file of
// this repository (web links only to a server running locally), and nothing sends the reader
// to a design file that is not in it.
import t from 'tap';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const pages = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join('docs', name)),
];

/** Markdown links `[text](target)` and autolinks `<http://…>`, outside code blocks. */
function links(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)|<(https?:\/\/[^>\s]+)>/g)].map((match) => match[1] ?? match[2]);
}

t.test('the index lists every page of docs/', async (t) => {
  const index = readFileSync(join(root, 'docs', 'README.md'), 'utf8');
  for (const page of pages.filter((path) => path.startsWith('docs/') && path !== 'docs/README.md')) {
    t.match(index, `](${page.slice('docs/'.length)})`, `docs/README.md links ${page}`);
  }
  t.match(readFileSync(join(root, 'README.md'), 'utf8'), '](docs/README.md)', 'README.md links the index');
});

t.test('every link resolves inside the repository', async (t) => {
  for (const page of pages) {
    const text = readFileSync(join(root, page), 'utf8');
    t.notMatch(text, /DESIGN\.md|\.\.\/shared\//, `${page} points to no design file outside the repository`);
    for (const target of links(text)) {
      if (/^https?:/.test(target)) {
        t.match(target, /^https?:\/\/(127\.0\.0\.1|localhost)[:/]/, `${page}: ${target} is a local server`);
        continue;
      }
      const file = resolve(dirname(join(root, page)), target.split('#')[0]);
      t.ok(existsSync(file) && !relative(root, file).startsWith('..'), `${page}: ${target} is a file of the repository`);
    }
  }
});
