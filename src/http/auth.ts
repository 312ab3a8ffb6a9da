/**
 * Authentication: `Authorization: Bearer <token>` is either a JWT whose `sub` names a principal of
 * the policy (HS256 with DPQ_JWT_SECRET, or RS256/ES256 verified against DPQ_JWKS_URL with issuer
 * and audience), or a service account's API key (policy `apiKeySha256`, compared in constant time).
 * Roles always come from the policy, never from the token.
 */
import crypto from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { DpqError } from '../errors.ts';
import { type Principal, principalByName } from '../policy/authorize.ts';
import type { Policy } from '../policy/schema.ts';
import type { Authenticator } from '../services.ts';

export interface AuthOptions {
  /** HS256 secret (at least 32 bytes). */
  readonly secret: Uint8Array | undefined;
  /** Every HS256 secret that verifies (rotation: the signing one first, older ones after); default `[secret]`. */
  readonly secrets?: readonly Uint8Array[];
  readonly jwks: { readonly url: string; readonly issuer: string; readonly audience: string } | undefined;
  /**
   * Set when the HS256 secret is random per start (embedded demo without DPQ_JWT_SECRET): the
   * start time, so that a token of an earlier start is named as such instead of "bad signature".
   */
  readonly ephemeralSince?: Date;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
/**
 * Why a credential failed, in `details.reason` of the 401 (stable values, api.md):
 * `missing`, `malformed`, `unknown_api_key`, `bad_signature`, `earlier_start`, `expired`,
 * `claims`, `algorithm`, `unknown_principal`.
 */
export type AuthFailure = 'missing' | 'malformed' | 'unknown_api_key' | 'bad_signature' | 'earlier_start' | 'expired' | 'claims' | 'algorithm' | 'unknown_principal';

const unauthenticated = (reason: AuthFailure, message: string, extra: Record<string, unknown> = {}): DpqError =>
  new DpqError('UNAUTHENTICATED', message, { reason, ...extra });

/** The JWT's claims without verifying them, for messages only (never for a decision). */
function unverifiedClaims(token: string): { iat?: unknown; exp?: unknown; sub?: unknown } {
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

const errorCode = (err: unknown): string => (err !== null && typeof err === 'object' && 'code' in err && typeof err.code === 'string' ? err.code : '');

/** A jose verification failure as a 401 that says which check failed. */
function jwtFailure(err: unknown, token: string, options: AuthOptions): DpqError {
  const code = errorCode(err);
  if (code === 'ERR_JWT_EXPIRED') {
    const exp = unverifiedClaims(token).exp;
    const at = typeof exp === 'number' ? new Date(exp * 1000).toISOString() : undefined;
    return unauthenticated('expired', `the bearer JWT expired${at === undefined ? '' : ` at ${at}`}; get a new token`, at === undefined ? {} : { expiredAt: at });
  }
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') {
    const iat = unverifiedClaims(token).iat;
    const since = options.ephemeralSince;
    if (since !== undefined && typeof iat === 'number' && iat * 1000 < since.getTime()) {
      return unauthenticated(
        'earlier_start',
        `this token was issued by an earlier start of the embedded demo (at ${new Date(iat * 1000).toISOString()}); each start signs with a new random secret — ` +
          'use a token printed by this start, `npx dpq demo token <principal>`, or set DPQ_JWT_SECRET to keep tokens across restarts',
        { startedAt: since.toISOString() },
      );
    }
    return unauthenticated('bad_signature', "the bearer JWT's signature does not verify with this service's key");
  }
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const claim = err !== null && typeof err === 'object' && 'claim' in err && typeof err.claim === 'string' ? err.claim : 'a claim';
    return unauthenticated('claims', `the bearer JWT's "${claim}" claim is missing or not accepted`, { claim });
  }
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JOSE_NOT_SUPPORTED') {
    return unauthenticated('algorithm', 'the bearer JWT is signed with an algorithm this service does not accept');
  }
  return unauthenticated('malformed', 'the bearer credential looks like a JWT but cannot be decoded');
}

/** The principal a verified token names: `sub` must be a non-empty string (RFC 7519 §4.1.2), never coerced. */
function subjectOf(payload: { sub?: unknown }): string {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthenticated('claims', 'the token subject (sub) must be a non-empty string');
  return payload.sub;
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export function createAuthenticator(policy: Policy, options: AuthOptions): Authenticator {
  const hsSecrets = options.secrets ?? (options.secret === undefined ? [] : [options.secret]);
  const jwks: JWTVerifyGetKey | undefined = options.jwks && createRemoteJWKSet(new URL(options.jwks.url));
  const keyed = Object.entries(policy.principals)
    .filter(([, p]) => p.apiKeySha256 !== undefined)
    .map(([name, p]) => ({ name, digest: Buffer.from(p.apiKeySha256!, 'hex') }));

  async function fromJwt(token: string): Promise<string> {
    let header: { alg?: unknown };
    try {
      header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { alg?: unknown };
    } catch {
      throw unauthenticated('malformed', 'the bearer credential looks like a JWT but its header is not JSON');
    }
    if (header.alg === 'HS256' && hsSecrets.length > 0) {
      let last: unknown;
      for (const secret of hsSecrets) {
        let payload: { sub?: unknown };
        try {
          ({ payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] }));
        } catch (err: unknown) {
          last = err;
          // Only a signature made with another secret is worth the next one; an expired token is not.
          if (!(err instanceof errors.JWSSignatureVerificationFailed)) break;
          continue;
        }
        return subjectOf(payload);
      }
      throw last;
    }
    if (jwks !== undefined && options.jwks !== undefined) {
      const { payload } = await jwtVerify(token, jwks, {
        algorithms: ['RS256', 'ES256'],
        requiredClaims: ['exp', 'sub'],
        issuer: options.jwks.issuer,
        audience: options.jwks.audience,
      });
      return subjectOf(payload);
    }
    throw unauthenticated('algorithm', `the bearer JWT's algorithm ${typeof header.alg === 'string' ? JSON.stringify(header.alg.slice(0, 20)) : '(none)'} is not accepted here`);
  }

  function fromApiKey(key: string): string | undefined {
    const digest = crypto.createHash('sha256').update(key, 'utf8').digest();
    let found: string | undefined;
    // Compare against every key so the time taken does not say which one matched.
    for (const k of keyed) if (crypto.timingSafeEqual(digest, k.digest) && found === undefined) found = k.name;
    return found;
  }

  return {
    async authenticate(header: string | undefined): Promise<Principal> {
      const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (m === null) {
        throw header === undefined || header.trim() === ''
          ? unauthenticated('missing', 'missing credentials: send Authorization: Bearer <token or API key>')
          : unauthenticated('malformed', 'the Authorization header is not "Bearer <token or API key>"');
      }
      const token = m[1]!;
      let name: string | undefined;
      if (JWT_SHAPE.test(token)) {
        try {
          name = await fromJwt(token);
        } catch (err: unknown) {
          if (err instanceof DpqError) throw err;
          throw jwtFailure(err, token, options);
        }
      } else {
        name = fromApiKey(token);
        if (name === undefined) {
          throw unauthenticated('unknown_api_key', 'the bearer credential is not a JWT (three base64url parts) and not a known API key');
        }
      }
      const principal = principalByName(policy, name);
      if (principal === undefined) {
        throw unauthenticated('unknown_principal', `the token's subject ${JSON.stringify(name.slice(0, 100))} is not a principal of the policy`);
      }
      return principal;
    },
  };
}

/** Mint an HS256 bearer token for a principal (demo start-up and `npx dpq token`). */
export async function mintToken(secret: Uint8Array, subject: string, ttlSeconds = 12 * 3600): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(secret);
}
