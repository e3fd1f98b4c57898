// checks.mjs — how the browser tests (tests/browser/) report: one line
// "ok - NAME" or "not ok - NAME: REASON" per check, counted in `tally` for
// the closing "N passed, M failed" line.
export const tally = { passed: 0, failed: 0 };

export const firstLine = (err) => String(err?.message ?? err).split('\n')[0].trim();

export function report(name, err) {
  if (err === undefined) {
    tally.passed++;
    console.log(`ok - ${name}`);
  } else {
    tally.failed++;
    console.log(`not ok - ${name}: ${firstLine(err)}`);
  }
}

// Runs the checks of one case in order on shared state. A step marked
// critical sets up what the later ones need: once it fails, the rest of the
// case are reported as failed without being run.
export async function runCase(steps) {
  let broken = null;
  for (const [name, fn, critical = false] of steps) {
    if (broken) {
      report(name, `not run: "${broken}" failed`);
      continue;
    }
    try {
      await fn();
      report(name);
    } catch (err) {
      report(name, err);
      if (critical) broken = name;
    }
  }
}

export const CRITICAL = true;

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}
