// Builds the screenshot harness (dev/harness.html) with the app's own plugins, into dev/dist.
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  plugins: [svelte()],
  build: {
    outDir: 'dev/dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    rollupOptions: { input: { harness: fileURLToPath(new URL('./harness.html', import.meta.url)), index: fileURLToPath(new URL('../index.html', import.meta.url)) } },
  },
});
