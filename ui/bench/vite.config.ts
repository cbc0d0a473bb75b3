import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The WebKit markdown benchmark page (page.html), built into bench/dist for webkit.py to serve.
export default defineConfig({
  root: here,
  base: './',
  resolve: { conditions: ['browser'] },
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022', rollupOptions: { input: `${here}page.html` } },
  logLevel: 'warn',
});
