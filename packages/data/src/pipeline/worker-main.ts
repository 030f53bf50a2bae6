// Entry point of a local worker process: `worker-main <config.json> <rank> <worldSize>` runs one rank and reports to its parent.
import { readFile } from 'node:fs/promises';
import { isLmkitError } from '@lmkit/core';
import { validatePipelineConfig } from './config.js';
import { resolvePipeline } from './run.js';
import { runRank } from './rank.js';

async function main(): Promise<void> {
  const [configPath, rankText, worldText] = process.argv.slice(2);
  const config = validatePipelineConfig(JSON.parse(await readFile(configPath!, 'utf8')), configPath);
  const rank = Number(rankText);
  const worldSize = Number(worldText);
  const { steps, dedups } = await resolvePipeline(config);
  let last = 0;
  await runRank(config, {
    rank,
    worldSize,
    steps,
    dedups,
    onProgress: (done, total) => {
      const now = Date.now();
      if (now - last > 200) {
        last = now;
        process.send?.({ type: 'progress', done, total });
      }
    },
  });
}

main().then(
  () => process.disconnect?.(),
  (error: unknown) => {
    const body = isLmkitError(error) ? error.toJSON() : { message: String((error as Error)?.stack ?? error) };
    process.stderr.write(`${String(body.message)}\n`);
    if (process.send) process.send({ type: 'error', error: body }, () => process.exit(1));
    else process.exit(1);
  },
);
