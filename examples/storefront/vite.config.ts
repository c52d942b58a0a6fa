import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The GraphQL endpoint is VITE_GRAPHQL_URL (src/config.ts), read at build time: nothing is
// proxied, the browser calls the API cross-origin as a deployed storefront would.
export default defineConfig({
  plugins: [react()],
  server: { host: 'localhost', port: 3000, strictPort: true },
  preview: { host: 'localhost', port: 3000, strictPort: true },
  build: { sourcemap: true },
});
