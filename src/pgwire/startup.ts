/**
 * Start-up and authentication of a session: the start-up packet (protocol 3.0; SSLRequest,
 * GSSENCRequest and CancelRequest before it), the cleartext password — a bearer JWT or an API key,
 * checked by the same authenticator as HTTP — and the dataset (the database name), authorized by
 * the same policy check. A password travels in clear only over TLS or from a loopback address.
 */
import net from 'node:net';
import { DpqError } from '../errors.ts';
import { may, type Principal } from '../policy/authorize.ts';
import type { Services } from '../services.ts';
import type { ErrorFields } from './protocol.ts';
import { SQLSTATE } from './errors.ts';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (net.isIPv4(a)) return a.startsWith('127.');
  return a === '::1';
}

export interface StartupRefusal {
  readonly fatal: ErrorFields;
}

const fatal = (code: string, message: string): StartupRefusal => ({ fatal: { severity: 'FATAL', code, message } });

/** Check the start-up parameters before asking for a password; a refusal when the session cannot go on. */
export function checkStartup(parameters: Readonly<Record<string, string>>, secure: boolean, remote: string | undefined): StartupRefusal | undefined {
  if (!secure && !isLoopback(remote)) {
    return fatal('28000', 'a password travels in clear only over TLS or from a loopback address: connect with sslmode=require');
  }
  if (parameters.user === undefined || parameters.user === '') return fatal('28000', 'no user name was given: the user is the principal');
  if (parameters.replication !== undefined && !/^(false|off|no|0)$/i.test(parameters.replication)) return fatal('0A000', 'replication connections are not supported');
  return undefined;
}

export interface Authenticated {
  readonly principal: Principal;
  readonly dataset: string;
}

/** Authenticate the password and authorize the dataset: FATAL 28P01 or 3D000 on refusal. */
export async function authenticate(services: Services, parameters: Readonly<Record<string, string>>, password: string): Promise<Authenticated | StartupRefusal> {
  let principal: Principal;
  try {
    principal = await services.auth.authenticate(`Bearer ${password}`);
  } catch (err: unknown) {
    if (err instanceof DpqError) return fatal(SQLSTATE.UNAUTHENTICATED, `password authentication failed for user "${parameters.user ?? ''}": ${err.message}`);
    return fatal('XX000', 'Internal error.');
  }
  // The user name must be the principal the credentials are for.
  if (principal.name !== parameters.user) return fatal(SQLSTATE.UNAUTHENTICATED, `password authentication failed for user "${parameters.user ?? ''}": the credentials are not this user's`);
  const dataset = parameters.database ?? parameters.user;
  if (!Object.hasOwn(services.policy.datasets, dataset) || !may(services.policy, principal, 'query', dataset)) {
    return fatal('3D000', `database "${dataset}" does not exist or this principal may not query it: the database is a dataset`);
  }
  return { principal, dataset };
}
