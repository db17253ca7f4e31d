import { defineConfig } from 'pathwatch';

/**
 * The bundled example: pathwatch watching its demo shop from two vantage points. In a real
 * install `inside` runs in the data centre and `outside` in a cloud; here both run on this
 * machine. `npm start` serves the demo shop on 127.0.0.1:4601 next to the stack.
 */
// docker-compose.yml points these at its own services; on one machine the defaults apply.
const shop = process.env.DEMO_SHOP_URL ?? 'http://127.0.0.1:4601';
const apiHost = process.env.PATHWATCH_API_HOST ?? '127.0.0.1';

export default defineConfig({
  locations: {
    inside: { description: 'inside the data centre, next to the shop' },
    outside: { description: 'a cloud region, where merchants are' },
  },
  defaults: { interval: '10s', timeout: '5s' },
  checks: [
    {
      id: 'shop-health',
      name: 'Demo shop health',
      kind: 'http',
      http: {
        url: `${shop}/health`,
        expect: {
          status: 200,
          json: [{ path: '$.status', equals: 'ok' }],
          maxResponseTime: '2s',
          degradedResponseTime: '500ms',
        },
      },
    },
    {
      id: 'shop-products-api',
      name: 'Product API',
      kind: 'http',
      http: { url: `${shop}/api/products`, expect: { status: '2xx', headers: { 'content-type': '/json/' } } },
    },
    {
      id: 'shop-login-page',
      name: 'Login page',
      kind: 'http',
      interval: '30s',
      locations: ['outside'],
      http: { url: `${shop}/login`, expect: { bodyContains: ['Log in'] } },
    },
  ],
  journeys: 'journeys/*.journey.ts',
  // The demo customer's password, for the example journeys (`${file:DEMO_SHOP_PASSWORD}`).
  secretsFile: 'journeys/demo.secrets.yaml',
  api: { host: apiHost, port: 4600 },
  // Tests point it elsewhere so they never touch the private Redis of a running quick start.
  dataDir: process.env.PATHWATCH_DATA_DIR ?? '.pathwatch',
});
