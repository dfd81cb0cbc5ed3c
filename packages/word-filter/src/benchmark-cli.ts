// `pnpm --filter @lomi/word-filter bench` (after `pnpm build`): prints what the word filter costs per message.
import os from 'node:os';
import { measureWordFilter } from './benchmark';

const result = measureWordFilter();
const load = os.loadavg()[0]!.toFixed(1);
console.log(`${result.messages} chat messages of 20–200 characters (${result.averageLength.toFixed(0)} on average), 1 in 50 with a disguised blocked word`);
console.log(`median of 9 interleaved rounds, ns per message; ${os.cpus().length} cores, load average ${load}`);
console.log(`  ${''.padEnd(40)} ${'elapsed'.padStart(8)} ${'CPU'.padStart(8)}`);
for (const [name, ns] of Object.entries(result.nsPerMessage)) {
  console.log(`  ${name.padEnd(40)} ${ns.wall.toFixed(0).padStart(8)} ${ns.cpu.toFixed(0).padStart(8)}`);
}
for (const [size, ms] of Object.entries(result.compileMs)) console.log(`  compiling a list of ${size} terms: ${ms.toFixed(1)} ms (median of 5)`);
