import { mkdirSync, writeFileSync } from 'node:fs';
import { benchLinkShow } from './link-show.js';
import { benchMail } from './mail.js';
import { benchTokens } from './tokens.js';

/**
 * `npm run bench`: every benchmark, each reported as a ratio to a baseline measured in the
 * same run. `--seconds=N` sets the length of each throughput round (default 5); `--quick`
 * runs smaller sizes as a smoke test.
 */
const quick = process.argv.includes('--quick');
const secondsArg = process.argv.find((a) => a.startsWith('--seconds='))?.slice(10);
const seconds = secondsArg ? Number(secondsArg) : quick ? 1 : 5;

const results: { summary: string }[] = [];
results.push(await benchLinkShow({ seconds, rounds: quick ? 1 : 3, connections: 10 }));
results.push(...(await benchTokens({ quick, seconds })));
results.push(...(await benchMail({ seconds: quick ? 1 : 3, rounds: quick ? 1 : 3 })));
for (const r of results) console.log(r.summary);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/latest.json', `${JSON.stringify(results, null, 2)}\n`);
