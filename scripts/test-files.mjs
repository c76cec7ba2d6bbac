#!/usr/bin/env node
// Prints every test file for `npm run test:unit`, the slow ones first. The runner takes the
// files in the order given, three at a time: a file of minutes that starts last becomes the
// run's tail while the other two slots sit empty. Started first, it runs beside the many
// short files instead. The list names what took longest in a full run (crash loop, cluster
// nodes, Chromium journeys, CLI processes); a file not named keeps its alphabetical place.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

// The two longest first, each beside lighter work (two cluster files side by side would
// starve each other's node processes of the two cores).
const SLOW_FIRST = [
  'test/cluster/refresh-cycles.test.ts',
  'test/handler/crash.test.ts',
  'test/ui/browser/journey.test.ts',
  'test/ui/browser/',
  'test/main/cluster-nodes.test.ts',
  'test/cluster/',
  'test/cli/connections.test.ts',
  'test/cli/',
  'test/jobs/',
  'test/http/secrets-every-kind.test.ts',
  'test/tokens/',
  'test/handler/',
];

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.ts')) yield path;
  }
}

const files = [...walk('test')].sort();
const rank = (file) => {
  const at = SLOW_FIRST.findIndex((p) => (p.endsWith('/') ? file.startsWith(p) : file === p));
  return at === -1 ? SLOW_FIRST.length : at;
};
// Array.prototype.sort is stable: within a rank the alphabetical order stays.
process.stdout.write(`${files.sort((a, b) => rank(a) - rank(b)).join('\n')}\n`);
