import { expect } from 'chai';
import { ConfigError, loadConfig } from '../../src/config/index.ts';

describe('configuration', () => {
  it('uses the documented defaults on an empty environment', () => {
    const c = loadConfig({});
    expect(c.port).to.equal(8080);
    expect(c.host).to.equal('127.0.0.1');
    expect(c.embedded).to.equal(true);
    expect(c.databaseUrl).to.equal(undefined);
    expect(c.stateUrl).to.equal(undefined);
    expect(c.dataDir).to.match(/\.dpq$/);
    expect(c.policyDir).to.match(/policies$/);
    expect(c.logLevel).to.equal('info');
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('opens the wire protocol on 5433 with 100 sessions by default; TLS cert and key go together', () => {
    const c = loadConfig({});
    expect([c.pgPort, c.pgMaxConnections, c.pgTlsCert, c.pgTlsKey]).to.deep.equal([5433, 100, undefined, undefined]);
    expect(loadConfig({ DPQ_PG_PORT: '0' }).pgPort).to.equal(0);
    expect(() => loadConfig({ DPQ_PG_TLS_CERT: '/tmp/cert.pem' })).to.throw(ConfigError, /^DPQ_PG_TLS_KEY: /);
    expect(() => loadConfig({ DPQ_PG_MAX_CONNECTIONS: '0' })).to.throw(ConfigError, /^DPQ_PG_MAX_CONNECTIONS: /);
  });

  it('defaults the state store to DATABASE_URL', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u@h/db' });
    expect(c.embedded).to.equal(false);
    expect(c.stateUrl).to.equal('postgres://u@h/db');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/db', DPQ_STATE_URL: 'postgresql://s@h/x' }).stateUrl).to.equal('postgresql://s@h/x');
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ PORT: 'eighty' }, /^PORT: /],
    [{ PORT: '70000' }, /^PORT: /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL: /],
    [{ DPQ_JWT_SECRET: 'short' }, /^DPQ_JWT_SECRET: .*32 bytes/],
    [{ DPQ_TOKEN_KEY: 'abcd' }, /^DPQ_TOKEN_KEY: .*32 bytes/],
    [{ LOG_LEVEL: 'loud' }, /^LOG_LEVEL: /],
    [{ DPQ_NOISE_SEED: 'x', NODE_ENV: 'production' }, /^DPQ_NOISE_SEED: .*production/],
    [{ DPQ_JWKS_URL: 'https://idp.example/jwks' }, /^DPQ_JWKS_URL: .*DPQ_JWT_ISSUER/],
  ];
  for (const [env, message] of bad) {
    it(`stops with a message naming the variable for ${JSON.stringify(env)}`, () => {
      expect(() => loadConfig(env)).to.throw(ConfigError, message);
    });
  }

  it('reads a 32-byte token key written in hex or base64', () => {
    expect(loadConfig({ DPQ_TOKEN_KEY: 'ab'.repeat(32) }).tokenKey?.length).to.equal(32);
    expect(loadConfig({ DPQ_TOKEN_KEY: Buffer.alloc(32, 7).toString('base64') }).tokenKey?.equals(Buffer.alloc(32, 7))).to.equal(true);
  });

  it('accepts a noise seed outside production', () => {
    expect(loadConfig({ DPQ_NOISE_SEED: 'seed', NODE_ENV: 'test' }).noiseSeed).to.equal('seed');
  });

  it('refuses a noise seed on a real warehouse unless DPQ_ALLOW_SEEDED_NOISE=1 is also set', () => {
    const prod = { DATABASE_URL: 'postgres://u@h/prod', DPQ_NOISE_SEED: 'demo' };
    expect(() => loadConfig(prod)).to.throw(ConfigError, /^DPQ_NOISE_SEED: .*DATABASE_URL.*DPQ_ALLOW_SEEDED_NOISE=1/);
    expect(() => loadConfig({ ...prod, DPQ_ALLOW_SEEDED_NOISE: '0' })).to.throw(ConfigError, /^DPQ_NOISE_SEED: /);
    expect(() => loadConfig({ ...prod, DPQ_ALLOW_SEEDED_NOISE: 'yes' })).to.throw(ConfigError, /^DPQ_ALLOW_SEEDED_NOISE: /);
    expect(loadConfig({ ...prod, DPQ_ALLOW_SEEDED_NOISE: '1' }).noiseSeed).to.equal('demo');
    // The embedded demo may use a seed on its own; without a seed the opt-in changes nothing.
    expect(loadConfig({ DPQ_NOISE_SEED: 'demo' }).noiseSeed).to.equal('demo');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/prod' }).noiseSeed).to.equal(undefined);
  });
});
