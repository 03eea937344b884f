import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoadedModelSet } from '@metaspliceai/core';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createLookupServer, LookupEngine } from '../src/index.js';
import { loadSpliceAI } from './helpers.js';

// Debian's chromium (CI installs it with apt when missing); playwright's own browser download cannot work here.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let loaded: LoadedModelSet;
let app: FastifyInstance;
let browser: Browser;
let base: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  const { loaded: l, model, genome } = await loadSpliceAI();
  loaded = l;
  app = createLookupServer(new LookupEngine({ model, genomes: [genome] }));
  base = await app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await loaded?.dispose();
});

describe('the page at /, in a real browser', () => {
  test('enter chr10:94077 A>C: the table shows the API numbers and the plot is drawn, with no request leaving the server', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const outside: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith(base)) outside.push(r.url());
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(base);
    await page.waitForSelector('#hg option', { state: 'attached' });
    await page.fill('#variant', 'chr10:94077 A>C');
    await page.fill('#distance', '500');
    await page.click('#submit');
    await page.waitForSelector('#plot[data-drawn]', { state: 'attached', timeout: 120_000 });

    const api = (await (await fetch(`${base}/spliceai/?hg=37&variant=chr10:94077%20A%3EC&distance=500&mask=0`)).json()) as {
      scores: Record<string, string | number>[];
      allNonZeroScores: unknown[];
    };
    const s = api.scores[0];
    const shown = async (field: string) => (await page.textContent(`#scores tbody tr:first-child td[data-field="${field}"]`))?.trim();
    for (const k of ['AG', 'AL', 'DG', 'DL']) {
      expect(await shown(`DS_${k}`)).toBe(s[`DS_${k}`]);
      expect(await shown(`DS_${k}_REF_ALT`)).toBe(`${s[`DS_${k}_REF`]}→${s[`DS_${k}_ALT`]}`);
      expect(await shown(`DP_${k}`)).toBe(`${Number(s[`DP_${k}`]) > 0 ? '+' : ''}${s[`DP_${k}`]} bp`);
    }
    expect(await shown('DS_AL')).toBe('0.27');
    // Four probability curves with points along the window, delta bars, and TUBB8's exons in the window.
    expect(await page.locator('#plot path.series').count()).toBe(4);
    const points = await page.locator('#plot path.series-AA').getAttribute('d');
    expect(points!.split('L').length).toBe(1001);
    expect(await page.locator('#plot rect.delta').count()).toBeGreaterThan(0);
    expect(await page.locator('#plot rect.exon').count()).toBeGreaterThanOrEqual(1);
    expect(errors).toEqual([]);
    expect(outside).toEqual([]);
    const dir = join(tmpdir(), 'msa-server-page');
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, 'tubb8.png'), fullPage: true });

    // A bad variant shows the server's error.
    await page.fill('#variant', 'chr10:94077 G>C');
    await page.click('#submit');
    await page.waitForSelector('#error:not([hidden])');
    expect(await page.textContent('#error')).toMatch(/does not match the reference/);
    await page.close();
  });
});
