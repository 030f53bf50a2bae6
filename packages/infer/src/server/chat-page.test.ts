import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BigramLM, byteTokenizer } from '../../test/bigram-lm.js';
import { serve, type RunningServer } from './server.js';

const CHROMIUM = process.env.LMKIT_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
// NOTE: CI installs Debian's chromium (.ci/run), so there a missing browser is a failure, not a skip.
const skipReason = !haveChromium && !process.env.CI ? `no Chromium at ${CHROMIUM} (apt-get install chromium, or set LMKIT_CHROMIUM)` : '';

describe.skipIf(skipReason !== '')(`chat page in headless Chromium${skipReason ? ` — skipped: ${skipReason}` : ''}`, () => {
  let server: RunningServer;
  let browser: Browser;
  beforeAll(async () => {
    server = await serve({ models: [{ id: 'bigram', model: BigramLM.fromText('the cat sat on the mat. ', 256), tokenizer: byteTokenizer }], port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sends a message and shows the streamed reply', async () => {
    const page = await browser.newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (document.getElementById('model') as HTMLSelectElement).options.length > 0);
    expect(await page.inputValue('#model')).toBe('bigram');
    await page.fill('#max-tokens', '24');
    await page.fill('#input', 'hello there');
    await page.click('#send');
    await page.waitForSelector('.msg.user');
    expect(await page.textContent('.msg.user')).toBe('hello there');
    const reply = await page.waitForSelector('.msg.assistant[data-done="true"]', { timeout: 30_000 });
    const text = (await reply.textContent()) ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(await page.$('.msg.error')).toBeNull();
  });
});
