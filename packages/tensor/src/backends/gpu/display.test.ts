// ensureDisplay keeps an existing DISPLAY, and otherwise starts an Xvfb that answers and stops on request.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureDisplay } from './display.js';

const hasXvfb = spawnSync('sh', ['-c', 'command -v Xvfb'], { stdio: 'ignore' }).status === 0;

describe('ensureDisplay', () => {
  it('uses the DISPLAY already set and starts nothing', async () => {
    const saved = process.env.DISPLAY;
    process.env.DISPLAY = ':77';
    try {
      const d = await ensureDisplay();
      expect(d).toMatchObject({ display: ':77', started: false });
    } finally {
      if (saved === undefined) delete process.env.DISPLAY;
      else process.env.DISPLAY = saved;
    }
  });

  it.skipIf(!hasXvfb)('starts Xvfb when DISPLAY is unset, sets DISPLAY, and stops it (skipped without Xvfb installed)', async () => {
    const saved = process.env.DISPLAY;
    delete process.env.DISPLAY;
    try {
      const d = await ensureDisplay();
      expect(d.started).toBe(true);
      expect(d.display).toMatch(/^:\d+$/);
      expect(process.env.DISPLAY).toBe(d.display);
      d.stop();
    } finally {
      if (saved === undefined) delete process.env.DISPLAY;
      else process.env.DISPLAY = saved;
    }
  });
});
