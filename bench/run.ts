import { mkdirSync, writeFileSync } from 'node:fs';
import { benchLinkShow } from './link-show.js';

/**
 * `npm run bench`: every benchmark, each reported as a ratio to a baseline measured in the
 * same run. `--seconds=N` sets the length of each round (default 5).
 */
const seconds = Number(process.argv.find((a) => a.startsWith('--seconds='))?.slice(10) ?? 5);
const results = [await benchLinkShow({ seconds, rounds: 3, connections: 10 })];
for (const r of results) console.log(r.summary);
mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/latest.json`, `${JSON.stringify(results, null, 2)}\n`);
