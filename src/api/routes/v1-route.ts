import type { z } from 'zod';
import type { ApiRole } from '../../auth/api-role.ts';
import { API_V1_ERRORS, errorResponses } from '../schemas/api-error-schema.ts';

/** What an /api/v1 route declares about itself: who may call it, what it takes, what it answers. */
export interface V1RouteSpec {
  /** The least role that may call the route. */
  role: ApiRole;
  /** The OpenAPI tags it is listed under. */
  tags: string[];
  /** One line for the OpenAPI document, ending in the role where it is above viewer. */
  summary: string;
  querystring?: z.ZodType;
  params?: z.ZodType;
  body?: z.ZodType;
  /** The success responses by status: a schema, or a fileResponse() for a download. */
  answers: Record<number, unknown>;
  /**
   * The error statuses it answers beyond API_V1_ERRORS (or a different meaning for one of
   * those), each with what it means here, or `true` for the shared meaning.
   * @defaultValue `{}`: only API_V1_ERRORS
   */
  errors?: Record<number, string | true>;
}

/**
 * The route options of an /api/v1 route: its role in `config`, and a schema whose responses
 * are its answers plus the shared error shape for every /api/v1 error status and its own.
 * Spread it to add more options (`{ ...v1Route(spec), validatorCompiler }`).
 */
export function v1Route({ role, answers, errors = {}, ...schema }: V1RouteSpec) {
  return {
    config: { role },
    schema: { ...schema, response: { ...answers, ...errorResponses({ ...API_V1_ERRORS, ...errors }) } },
  };
}
