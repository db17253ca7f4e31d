import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { PATHWATCH_VERSION } from '../version.ts';

/** Where the OpenAPI document and its page are served. */
export const OPENAPI_URL = '/api/openapi.json';
export const API_DOCS_PREFIX = '/api/docs';

/**
 * Collects every route's zod schemas into an OpenAPI 3.1 document. Registered before any
 * route, as it learns them from onRoute. Routes without a schema (the run page, uploads,
 * the trace viewer's files) are listed with what Fastify knows (method, path).
 */
export async function registerOpenApiCollector(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'pathwatch API',
        version: PATHWATCH_VERSION,
        description:
          'Checks, runs, locations, captures and evidence. Send `Authorization: Bearer <token>` when api.tokens is set; routes with `exp`/`sig` also open through a signed link. Every error is `{ "error": { "code", "message" } }`.',
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
}

/**
 * GET /api/openapi.json and the docs page (swagger-ui at /api/docs, its assets served from
 * the installed package, so it works offline). Both are open like /healthz: the document
 * describes the API's routes and shapes, the same for every install of this version, and
 * holds no data of this one (no check, run or location); a browser opening the page could
 * not send a token for it anyway. The page's scripts are files from this origin (no inline
 * script, swagger-ui's csp.json lists no hashes), so the API's own CSP serves it unchanged.
 */
export async function registerOpenApiRoutes(app: FastifyInstance): Promise<void> {
  app.get(OPENAPI_URL, { schema: { hide: true } }, async () => app.swagger());
  await app.register(swaggerUi, {
    routePrefix: API_DOCS_PREFIX,
    // No validatorUrl: swagger-ui then asks no outside validator to badge the document.
    uiConfig: { deepLinking: true },
  });
}
