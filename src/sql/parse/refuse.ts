/**
 * The two ways a query is turned away before it reaches the warehouse, as `DpqError`s with the
 * details api.md promises: `SQL_SYNTAX` with `position`, and `SQL_NOT_ALLOWED` with `construct`
 * (what was refused), `position` (where) and `hint` (what to write instead).
 */
import { DpqError } from '../../errors.ts';

/** Valid SQL outside the allowed subset. */
export function notAllowed(construct: string, position: number, message: string, hint: string): DpqError {
  return new DpqError('SQL_NOT_ALLOWED', message, { construct, position, hint });
}

/** SQL that does not parse. */
export function syntaxError(message: string, position: number): DpqError {
  return new DpqError('SQL_SYNTAX', message, { position });
}
