// Reads a tap run's output on standard input and prints, last, every failed assertion with the
// test file and subtests it sits in and the start of its diagnostics. A CI log is often seen
// only by its tail: without this, a run that failed says how many assertions failed, not which.
import { createInterface } from 'node:readline';

const maximumFailures = 20;
const maximumDiagnosticLines = 24;
const path = []; // the "# Subtest:" names enclosing the current line, by indentation
const failures = [];
let current = null; // the failure whose diagnostics are being read

for await (const line of createInterface({ input: process.stdin })) {
  const indent = line.length - line.trimStart().length;
  const text = line.trim();
  if (current) {
    // Its diagnostics are a YAML block right below it, from "---" to "...".
    const opening = current.lines.length === 0 && !current.open;
    if (opening && text === '---') current.open = true;
    else if (opening || text === '...') current = null;
    else if (current.lines.length < maximumDiagnosticLines) current.lines.push(line.slice(current.indent));
    if (current || text === '...') continue;
  }
  const subtest = /^# Subtest: (.*)$/.exec(text);
  if (subtest) {
    const depth = indent / 4;
    path.length = depth;
    path[depth] = subtest[1];
    continue;
  }
  const failed = /^not ok \d+ - (.*?)(?: # time=[\d.]+m?s)?$/.exec(text);
  if (failed) {
    const depth = indent / 4;
    const failure = { where: path.slice(0, depth), what: text, indent, open: false, lines: [] };
    // A subtest's own "not ok" repeats the news of the assertions that failed inside it.
    const own = [...failure.where, failed[1]];
    const repeat = failures.some((earlier) => own.every((name, level) => earlier.where[level] === name));
    if (!repeat) failures.push(failure);
    current = failure;
  }
}

if (failures.length > 0) {
  console.log(`\n=== ${failures.length} failed assertion(s)${failures.length > maximumFailures ? `, the first ${maximumFailures}` : ''} ===`);
  for (const failure of failures.slice(0, maximumFailures)) {
    console.log(`\n${failure.where.join(' > ')}\n  ${failure.what}`);
    for (const line of failure.lines) console.log(`  ${line}`);
  }
}
