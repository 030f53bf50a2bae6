// Runs bench/split-grad.ts against the working tree and against the tensor package before split's gradient was
// summed in place (ANCHOR, default 8f39328^), alternately in one run, and prints both with the ratio.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const pkg = resolve(import.meta.dirname, '..');
const anchor = process.env.ANCHOR ?? '8f39328^';
const rounds = Number(process.env.ROUNDS ?? 4);
const work = mkdtempSync(join(tmpdir(), 'lmkit-split-bench-'));
try {
  // The anchor tree, with this package's node_modules links so its imports resolve the same way.
  const repo = execFileSync('git', ['rev-parse', '--show-toplevel'], { cwd: pkg, encoding: 'utf8' }).trim();
  const rel = pkg.slice(repo.length + 1);
  execFileSync('sh', ['-c', `git archive ${anchor} ${rel} | tar -x -C ${work}`], { cwd: repo });
  const old = join(work, rel);
  mkdirSync(join(old, 'node_modules', '@lmkit'), { recursive: true });
  for (const name of readdirSync(join(pkg, 'node_modules', '@lmkit'))) symlinkSync(realpathSync(join(pkg, 'node_modules', '@lmkit', name)), join(old, 'node_modules', '@lmkit', name));
  copyFileSync(join(pkg, 'bench', 'split-grad.ts'), join(old, 'bench', 'split-grad.ts'));
  const tsup = join(repo, 'node_modules', '.bin', 'tsup');
  const build = (root, name) => {
    execFileSync(tsup, ['bench/split-grad.ts', '--no-config', '--format', 'esm', '--target', 'node20', '--out-dir', join(old, 'bench', 'out', name)], { cwd: root, stdio: 'ignore' });
    return join(old, 'bench', 'out', name, 'split-grad.js'); // both under the anchor tree, so @lmkit/core resolves
  };
  const files = { anchor: build(old, 'anchor'), ours: build(pkg, 'ours') };
  const best = { anchor: Infinity, ours: Infinity };
  for (let r = 0; r < rounds; r++) {
    for (const which of ['anchor', 'ours']) {
      const out = JSON.parse(execFileSync('node', [files[which]], { encoding: 'utf8' }).trim().split('\n').pop());
      if (out.maxDiff > 1e-6) throw new Error(`${which}: wrong gradient (max |Δ| ${out.maxDiff})`);
      best[which] = Math.min(best[which], out.bestMs);
      console.log(`${which.padEnd(6)} ${JSON.stringify(out)}`);
    }
  }
  console.log(`split forward + backward (8, 128, 384) in three: ours ${best.ours.toFixed(2)} ms, anchor (${anchor}: zero-padded gradient per piece) ${best.anchor.toFixed(2)} ms — ${(best.anchor / best.ours).toFixed(2)}× faster`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
