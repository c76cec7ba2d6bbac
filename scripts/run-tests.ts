// `npm run test:unit`: every test file (or the files named as arguments), each in its own
// process, three at a time, with the spec reporter. Started as
//   node --import tsx --import ./scripts/test-watchdog.ts scripts/run-tests.ts [file …]
// so that each file's process loads TypeScript and the watchdog too (the runner hands its
// own --import flags on).
//
// After the spec output it prints what failed once more, with the file and the first line
// of the error, and what the watchdog said of a file that ran long: CI keeps only the end
// of a run's output, and a file cancelled by the timeout is otherwise named far above it.
// Exits 1 when a test failed or was cancelled.
import { readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';

// The files that took longest in a full run (crash loop, cluster nodes, Chromium journeys,
// CLI processes) start first: the runner takes the files in the order given, three at a
// time, and a file of minutes that starts last becomes the run's tail while the other two
// slots sit empty. Started first, it runs beside the many short files instead. The two
// longest each start beside lighter work (two cluster files side by side would starve each
// other's node processes of the two cores). A file not named keeps its alphabetical place.
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

/**
 * A file's process is cancelled after this long. The longest file (the crash loop) takes
 * about 2.5 minutes on an idle two-core machine and about 4 with both cores kept busy by
 * something else; a host two or three times slower still fits, a hung file does not run on.
 */
const FILE_TIMEOUT_MS = 15 * 60_000;

function* walk(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.test.ts')) yield path;
  }
}

function allTestFiles(): string[] {
  const rank = (file: string) => {
    const at = SLOW_FIRST.findIndex((p) => file === p || (p.endsWith('/') && file.startsWith(p)));
    return at === -1 ? SLOW_FIRST.length : at;
  };
  // Array.prototype.sort is stable: within a rank the alphabetical order stays.
  return [...walk('test')].sort().sort((a, b) => rank(a) - rank(b));
}

const named = process.argv.slice(2);
const files = (named.length > 0 ? named : allTestFiles()).map((file) => resolve(file));

const failures: string[] = [];
const watchdog: string[] = [];
const where = (file: string | undefined) => (file ? relative(process.cwd(), file) : '?');
const firstLine = (error: unknown) => {
  const cause = (error as { cause?: unknown } | undefined)?.cause ?? error;
  const text = cause instanceof Error ? cause.message : String(cause);
  return text.split('\n')[0];
};

const stream = run({ files, concurrency: 3, timeout: FILE_TIMEOUT_MS });
stream.on('test:fail', (data) => {
  // A suite fails with its tests; the tests themselves say what failed.
  const { failureType } = data.details.error as Error & { failureType?: string };
  if (data.details.type === 'suite' && failureType === 'subtestsFailed') return;
  failures.push(`${where(data.file)}: "${data.name}": ${firstLine(data.details.error)}`);
});
stream.on('test:stderr', (data) => {
  for (const line of data.message.split('\n')) {
    if (line.startsWith('watchdog: ')) watchdog.push(line);
  }
});
const output = stream.compose(new spec());
output.pipe(process.stdout, { end: false });
output.on('end', () => {
  const report = [
    ...(watchdog.length > 0
      ? ['', 'What the watchdog saw (files that ran long):', ...watchdog]
      : []),
    ...(failures.length > 0
      ? ['', `${failures.length} failed or cancelled:`, ...failures.map((f) => `  ${f}`)]
      : ['', 'no test failed or was cancelled']),
  ];
  process.stdout.write(`${report.join('\n')}\n`, () => {
    process.exitCode = failures.length > 0 ? 1 : 0;
  });
});
