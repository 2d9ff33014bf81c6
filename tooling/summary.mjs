// Prints vitest's totals as one plain closing line ("Tests: N passed, N failed, N skipped") for CI logs.
import { readFileSync } from 'node:fs';

try {
  const report = JSON.parse(readFileSync(new URL('../.vitest/report.json', import.meta.url), 'utf8'));
  const {
    numPassedTests: passed,
    numFailedTests: failed,
    numPendingTests: skipped,
    numTodoTests: todo,
  } = report;
  console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped + (todo ?? 0)} skipped`);
} catch (error) {
  console.log(`\nno vitest report to summarise (${error.message})`);
}
