/** Which credential failed and why: `details.reason` and a message that says what to do. */
import path from 'node:path';
import { expect } from 'chai';
import { SignJWT } from 'jose';
import { DpqError } from '../../src/errors.ts';
import { createAuthenticator } from '../../src/http/auth.ts';
import { loadPolicy } from '../../src/policy/load.ts';

const { policy } = loadPolicy(path.resolve('policies'), {});
const secret = new TextEncoder().encode('test-secret-test-secret-test-secret-0123');
const started = new Date('2026-12-04T12:00:00Z');
const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

async function jwt(sub: string, opts: { key?: Uint8Array; iat?: number; exp?: number; alg?: string } = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: opts.alg ?? 'HS256' })
    .setSubject(sub)
    .setIssuedAt(opts.iat ?? Math.floor(Date.now() / 1000))
    .setExpirationTime(opts.exp ?? Math.floor(Date.now() / 1000) + 600)
    .sign(opts.key ?? secret);
}

async function failure(header: string | undefined, ephemeral = false): Promise<{ reason: unknown; message: string; details: Record<string, unknown> }> {
  const auth = createAuthenticator(policy, { secret, jwks: undefined, ...(ephemeral ? { ephemeralSince: started } : {}) });
  try {
    await auth.authenticate(header);
  } catch (err: unknown) {
    if (!(err instanceof DpqError)) throw err;
    expect(err.code).to.equal('UNAUTHENTICATED');
    return { reason: err.details?.reason, message: err.message, details: { ...err.details } };
  }
  throw new Error('authenticated');
}

describe('authentication failures say which check failed', () => {
  it('names a missing header, a header that is not Bearer, and a credential that is neither JWT nor API key', async () => {
    expect((await failure(undefined)).reason).to.equal('missing');
    expect((await failure('Basic YWxpY2U6eA==')).reason).to.equal('malformed');
    const nonsense = await failure('Bearer nonsense');
    expect(nonsense.reason).to.equal('unknown_api_key');
    expect(nonsense.message).to.match(/not a JWT .* and not a known API key/);
  });

  it('names a bad signature, an expiry (with its time), an unknown principal and a missing claim', async () => {
    const bad = await failure(`Bearer ${await jwt('alice', { key: new TextEncoder().encode('another-secret-another-secret-another') })}`);
    expect(bad.reason).to.equal('bad_signature');
    const exp = Math.floor(Date.now() / 1000) - 60;
    const expired = await failure(`Bearer ${await jwt('alice', { iat: exp - 600, exp })}`);
    expect(expired.reason).to.equal('expired');
    expect(expired.details.expiredAt).to.equal(new Date(exp * 1000).toISOString());
    const unknown = await failure(`Bearer ${await jwt('mallory')}`);
    expect(unknown.reason).to.equal('unknown_principal');
    expect(unknown.message).to.contain('"mallory"');
    const noExp = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('alice').sign(secret);
    expect((await failure(`Bearer ${noExp}`)).reason).to.equal('claims');
    expect((await failure('Bearer e30.e30.x')).reason).to.equal('algorithm');
    expect((await failure('Bearer !!!.e30.x')).reason).to.equal('unknown_api_key');
  });

  it('a demo token from an earlier start (random secret per start) is named as such', async () => {
    const earlier = await jwt('alice', { key: new TextEncoder().encode('the-previous-start-random-secret-xxxx'), iat: seconds(started) - 3600 });
    const r = await failure(`Bearer ${earlier}`, true);
    expect(r.reason).to.equal('earlier_start');
    expect(r.message).to.contain('npx dpq demo token');
    expect(r.details.startedAt).to.equal(started.toISOString());
    // Issued after this start: not an earlier start's token, just a bad signature.
    const later = await jwt('alice', { key: new TextEncoder().encode('the-previous-start-random-secret-xxxx'), iat: seconds(started) + 10 });
    expect((await failure(`Bearer ${later}`, true)).reason).to.equal('bad_signature');
    // With a configured secret the same token is a plain bad signature.
    expect((await failure(`Bearer ${earlier}`, false)).reason).to.equal('bad_signature');
  });
});
