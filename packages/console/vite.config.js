// Builds the console into dist/www: hashed assets, no inline scripts or styles (the CSP the
// cloud sends forbids them), nothing fetched from a CDN. JSX is compiled by Vite's own
// transformer for Preact (no Babel).
import { defineConfig } from 'vite'

export default defineConfig({
  root: 'src',
  base: '/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/www',
    emptyOutDir: true,
    target: 'es2022',
    // Never inline assets as data: URLs into scripts or styles; keep each file on its own.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/api': { target: process.env.STRATA_URL ?? 'http://127.0.0.1:8080', ws: true },
    },
  },
})
