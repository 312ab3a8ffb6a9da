/**
 * Versioned migrations of schema `dpq`. Append only: a released migration is never edited; a
 * change is a new entry. `migrate.ts` applies the missing ones under an advisory lock.
 *
 * Amounts are integers: ε in micro-units (1e-6), δ and ρ in pico-units (1e-12) (see dp/units.ts),
 * so that 0.1 + 0.2 spends exactly 0.3 (privacy.md, Accounting).
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'ledger, release cache, audit log',
    sql: `
      CREATE TABLE dpq.budget_accounts (
        principal       text   NOT NULL,   -- '*' is the dataset total; 'metric:<name>' a metric's own budget
        dataset         text   NOT NULL,
        period          text   NOT NULL,   -- '' when the budget never renews, else e.g. '2026-11'
        eps_micro       bigint NOT NULL DEFAULT 0,  -- Σ ε of every release (basic composition)
        delta_pico      bigint NOT NULL DEFAULT 0,  -- Σ δ of every release
        laplace_eps_micro bigint NOT NULL DEFAULT 0,        -- Σ ε of Laplace releases
        laplace_approx_eps_micro bigint NOT NULL DEFAULT 0, -- … of those with δ > 0
        pure_rho_pico   bigint NOT NULL DEFAULT 0,  -- Σ ε²/2 of pure Laplace releases
        gauss_rho_pico  bigint NOT NULL DEFAULT 0,  -- Σ ρ of Gaussian releases
        gauss_delta_pico bigint NOT NULL DEFAULT 0, -- Σ δ of Gaussian releases
        eps_extra_micro bigint NOT NULL DEFAULT 0,  -- approved budget requests add to the limit
        delta_extra_pico bigint NOT NULL DEFAULT 0,
        updated_at      timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (principal, dataset, period)
      );
      CREATE TABLE dpq.budget_events (
        id          bigserial PRIMARY KEY,
        at          timestamptz NOT NULL,
        principal   text   NOT NULL,
        dataset     text   NOT NULL,
        period      text   NOT NULL,
        kind        text   NOT NULL CHECK (kind IN ('query', 'metric', 'topup', 'refund')),
        mechanism   text,
        eps_micro   bigint NOT NULL,
        delta_pico  bigint NOT NULL,
        rho_pico    bigint NOT NULL,
        reference   text                      -- query id, metric name or access request id
      );
      CREATE INDEX budget_events_account ON dpq.budget_events (principal, dataset, period);
      CREATE TABLE dpq.release_cache (
        key         text PRIMARY KEY,         -- sha256 of dataset, SQL fingerprint, ε, δ, mechanism, confidence
        dataset     text NOT NULL,
        body        text NOT NULL,            -- the stored release, served byte-identical
        created_at  timestamptz NOT NULL DEFAULT now(),
        expires_at  timestamptz NOT NULL
      );
      CREATE INDEX release_cache_expiry ON dpq.release_cache (expires_at);
      CREATE TABLE dpq.audit_log (
        seq         bigint PRIMARY KEY,
        at          timestamptz NOT NULL,
        entry       text NOT NULL,            -- canonical JSON of the entry (without the hashes)
        prev_hash   text NOT NULL,
        hash        text NOT NULL
      );
      CREATE TABLE dpq.audit_head (
        id          boolean PRIMARY KEY DEFAULT true CHECK (id),
        seq         bigint NOT NULL,
        hash        text NOT NULL
      );
      INSERT INTO dpq.audit_head (id, seq, hash) VALUES (true, 0, repeat('0', 64));
    `,
  },
];
