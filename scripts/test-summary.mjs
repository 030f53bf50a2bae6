// Reads the output of `npm test` (turbo running vitest in every package) on stdin and prints one
// closing line, "N passed, N failed, N skipped", summed over the packages' "Tests" lines.
import { readFileSync } from 'node:fs';

const text = readFileSync(0, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const totals = { passed: 0, failed: 0, skipped: 0 };
let packages = 0;
for (const line of text.split('\n')) {
  const m = /\bTests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (!m) continue;
  packages++;
  for (const part of m[1].split('|')) {
    const n = /(\d+)\s+(passed|failed|skipped|todo)/.exec(part);
    if (n) totals[n[2] === 'todo' ? 'skipped' : n[2]] += Number(n[1]);
  }
}
console.log(`test suites of ${packages} packages:`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
