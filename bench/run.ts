import { mkdirSync, writeFileSync } from 'node:fs';
import { benchLinkShow } from './link-show.js';
import { benchMail } from './mail.js';
import { benchMailHandler } from './mail-handler.js';
import { benchTokens } from './tokens.js';

/**
 * `npm run bench`: every benchmark, each reported as a ratio to a baseline measured in the
 * same run. `--seconds=N` sets the length of each throughput round (default 5); `--quick`
 * runs smaller sizes as a smoke test; `--only=a,b` runs the named ones (link-show, tokens,
 * mail, mail-handler); `--json` prints the results as JSON instead of the summaries.
 * The mail handler benchmark also takes `--messages=N` (default 10000, quick 1000),
 * `--rounds=N` (counted rounds, default 5), `--parse` (side C: fetch + mailparser) and
 * `--cpu-prof` (CPU profiles of its Outlink children, in bench/results/profiles).
 */
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(`--${name}`);
const value = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = flag('quick');
const json = flag('json');
const secondsArg = value('seconds');
const seconds = secondsArg ? Number(secondsArg) : quick ? 1 : 5;
const only = value('only')?.split(',');
const wanted = (name: string) => !only || only.includes(name);
// With --json, progress goes to stderr so that stdout is the JSON alone.
const log = (line: string) => (json ? console.error(line) : console.log(line));

const results: { summary: string }[] = [];
if (wanted('link-show'))
  results.push(await benchLinkShow({ seconds, rounds: quick ? 1 : 3, connections: 10 }));
if (wanted('tokens')) results.push(...(await benchTokens({ quick, seconds })));
if (wanted('mail'))
  results.push(...(await benchMail({ seconds: quick ? 1 : 3, rounds: quick ? 1 : 3 })));
if (wanted('mail-handler')) {
  const profiles = 'bench/results/profiles';
  if (flag('cpu-prof')) mkdirSync(profiles, { recursive: true });
  results.push(
    await benchMailHandler({
      messages: Number(value('messages') ?? (quick ? 1000 : 10_000)),
      rounds: Number(value('rounds') ?? (quick ? 2 : 5)),
      parse: flag('parse'),
      ...(flag('cpu-prof')
        ? { outlinkNodeOptions: ['--cpu-prof', `--cpu-prof-dir=${profiles}`] }
        : {}),
      log,
    }),
  );
}
if (json) console.log(JSON.stringify(results, null, 2));
else for (const r of results) console.log(r.summary);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
