// Screenshots of the harness at 800x600 and 1280x800, light and dark, plus the streaming benchmark.
// Usage: npx vite build --config dev/vite.config.ts && node dev/shoot.mjs
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { chromium } from 'playwright-core';

const root = new URL('./dist/', import.meta.url).pathname;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };
const server = createServer(async (req, res) => {
  const path = join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname));
  try {
    const body = await readFile(path);
    res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404).end();
  }
}).listen(0);
const base = `http://127.0.0.1:${server.address().port}`;
await mkdir(new URL('./shots/', import.meta.url), { recursive: true });

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
const only = process.argv[2];
const shots = [
  ['chat', ''], ['first-run', '&first-run'], ['settings', '&settings'],
];
for (const [name, extra] of shots) {
  if (only && only !== 'shots') break;
  for (const theme of ['light', 'dark']) {
    for (const [w, h] of [[800, 600], [1280, 800]]) {
      const page = await browser.newPage({ viewport: { width: w, height: h }, colorScheme: theme });
      page.on('console', (m) => m.type() === 'error' && problems.push(`${name}: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
      await page.goto(`${base}/dev/harness.html?theme=${theme}${extra}`);
      await page.waitForTimeout(900);
      if (name === 'chat' && w === 1280) {
        await page.click('[data-testid=figures-toggle]');
        await page.fill('[data-testid=composer]', 'Hello');
        await page.keyboard.press('Enter');
        await page.waitForTimeout(300);
      }
      await page.screenshot({ path: new URL(`./shots/${name}-${theme}-${w}.png`, import.meta.url).pathname });
      await page.close();
    }
  }
}
if (!only || only === 'bench') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', (e) => problems.push(`bench: ${e.message}`));
  await page.goto(`${base}/index.html#bench-stream`);
  await page.waitForFunction(() => document.getElementById('bench-result')?.textContent, null, { timeout: 60000 });
  console.log('bench', await page.textContent('#bench-result'));
  await page.screenshot({ path: new URL('./shots/bench.png', import.meta.url).pathname });
}
console.log(problems.length ? problems.join('\n') : 'no console errors');
await browser.close();
server.close();
