/**
 * Validation at the edge (hono-style): each route parses its body, query string and path with a
 * zod schema and passes the typed value inward. A failure is 400 INVALID_REQUEST naming the field.
 */
import type { z } from 'zod';
import { invalidRequest } from '../errors.ts';

export function parseInput<S extends z.ZodType>(schema: S, value: unknown, part = 'body'): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.map(String).join('.');
  throw invalidRequest(field === '' ? `${part}: ${issue.message}` : `${part}.${field}: ${issue.message}`, {
    field: field === '' ? part : field,
  });
}
