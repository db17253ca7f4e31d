import { defineConfig } from 'pathwatch';

/**
 * The bundled example: pathwatch watching its demo shop from two vantage points. In a real
 * install `inside` runs in the data centre and `outside` in a cloud; here both run on this
 * machine. `npm start` serves the demo shop on 127.0.0.1:4601 next to the stack.
 */
// docker-compose.yml points these at its own services; on one machine the defaults apply.
const shop = process.env.DEMO_SHOP_URL ?? 'http://127.0.0.1:4601';
const apiHost = process.env.PATHWATCH_API_HOST ?? '127.0.0.1';
// docker-compose.yml's outside worker has its own disk: it uploads its evidence to the API
// with a `worker` token (`pathwatch token create --role worker`); the API takes its hash.
const deliverTo = process.env.PATHWATCH_DELIVER_TO;
const uploadTokenHash = process.env.PATHWATCH_UPLOAD_TOKEN_HASH;

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
  api: {
    host: apiHost,
    port: 4600,
    // A worker token alone leaves the API open to readers, as without tokens.
    tokens: uploadTokenHash ? [{ name: 'worker-outside', hash: uploadTokenHash, role: 'worker' }] : [],
  },
  ...(deliverTo
    ? { artifacts: { deliverTo: { url: deliverTo, token: '${env:PATHWATCH_UPLOAD_TOKEN}' } } }
    : {}),
  // A rolling capture of the shop's traffic, and the slice around every failed run. tcpdump
  // needs root or CAP_NET_RAW and CAP_NET_ADMIN: without them the stack says so in one line
  // ("packet capture unavailable; …") and monitors on. Packets are cut to their headers.
  capture: {
    filter: `tcp port ${new URL(shop).port || '80'} or udp port 53`,
    ringSize: '256MiB',
    maxAge: '1h',
  },
  // Tests point it elsewhere so they never touch the private Redis of a running quick start.
  dataDir: process.env.PATHWATCH_DATA_DIR ?? '.pathwatch',
});
