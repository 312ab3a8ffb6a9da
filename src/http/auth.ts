/**
 * Authentication: `Authorization: Bearer <token>` is either a JWT whose `sub` names a principal of
 * the policy (HS256 with DPQ_JWT_SECRET, or RS256/ES256 verified against DPQ_JWKS_URL with issuer
 * and audience), or a service account's API key (policy `apiKeySha256`, compared in constant time).
 * Roles always come from the policy, never from the token.
 */
import crypto from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, SignJWT, type JWTVerifyGetKey } from 'jose';
import { DpqError } from '../errors.ts';
import { type Principal, principalByName } from '../policy/authorize.ts';
import type { Policy } from '../policy/schema.ts';

export interface AuthOptions {
  /** HS256 secret (at least 32 bytes). */
  readonly secret: Uint8Array | undefined;
  readonly jwks: { readonly url: string; readonly issuer: string; readonly audience: string } | undefined;
}

export interface Authenticator {
  authenticate(header: string | undefined): Promise<Principal>;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const unauthenticated = (message: string): DpqError => new DpqError('UNAUTHENTICATED', message);

/** The principal a verified token names: `sub` must be a non-empty string (RFC 7519 §4.1.2), never coerced. */
function subjectOf(payload: { sub?: unknown }): string {
  if (typeof payload.sub !== 'string' || payload.sub === '') throw unauthenticated('the token subject (sub) must be a string');
  return payload.sub;
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

export function createAuthenticator(policy: Policy, options: AuthOptions): Authenticator {
  const jwks: JWTVerifyGetKey | undefined = options.jwks && createRemoteJWKSet(new URL(options.jwks.url));
  const keyed = Object.entries(policy.principals)
    .filter(([, p]) => p.apiKeySha256 !== undefined)
    .map(([name, p]) => ({ name, digest: Buffer.from(p.apiKeySha256!, 'hex') }));

  async function fromJwt(token: string): Promise<string> {
    const header = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { alg?: unknown };
    if (header.alg === 'HS256' && options.secret !== undefined) {
      const { payload } = await jwtVerify(token, options.secret, { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'] });
      return subjectOf(payload);
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
    throw unauthenticated('token algorithm not accepted');
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
      if (m === null) throw unauthenticated('missing bearer credentials');
      const token = m[1]!;
      let name: string | undefined;
      if (JWT_SHAPE.test(token)) {
        try {
          name = await fromJwt(token);
        } catch (err: unknown) {
          if (err instanceof DpqError) throw err;
          throw unauthenticated('invalid or expired token');
        }
      } else {
        name = fromApiKey(token);
        if (name === undefined) throw unauthenticated('invalid API key');
      }
      const principal = principalByName(policy, name);
      if (principal === undefined) throw unauthenticated('unknown principal');
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
