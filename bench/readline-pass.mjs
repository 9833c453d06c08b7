// Baseline of the score benchmark, written the obvious way: Node's readline over the file, JSON.parse,
// add a field, JSON.stringify, write (respecting backpressure). Run as its own process; the parent times it.
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { once } from 'node:events';

const [input, output] = process.argv.slice(2);
const out = createWriteStream(output);
const rl = createInterface({ input: createReadStream(input), crlfDelay: Infinity });
for await (const line of rl) {
  if (line.length === 0) continue;
  const r = JSON.parse(line);
  r.reward = r.completion.length % 2;
  if (!out.write(JSON.stringify(r) + '\n')) await once(out, 'drain');
}
out.end();
await once(out, 'close');
