import { defineConfig } from 'vite';
import { ekaBackendPlugin } from './src/server/ekaBackendPlugin.ts';

export default defineConfig({
  plugins: [ekaBackendPlugin()],
  build: { target: 'es2022' },
});
