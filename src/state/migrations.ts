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
        eps_micro       bigint NOT NULL DEFAULT 0,  -- Σ ε of every release (basic composition, budget/totals.ts)
        delta_pico      bigint NOT NULL DEFAULT 0,  -- Σ δ of every release
        rho_pico        bigint NOT NULL DEFAULT 0,  -- Σ ρ of Gaussian releases, for the record
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
        fingerprint text NOT NULL,            -- for the audit entries of replays
        sql_redacted text NOT NULL,
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
  {
    version: 2,
    name: 'JIT access requests, approvals, token vault',
    sql: `
      CREATE TABLE dpq.access_requests (
        id            text PRIMARY KEY,              -- ar_<random>
        kind          text NOT NULL CHECK (kind IN ('raw', 'budget')),
        dataset       text NOT NULL,
        requester     text NOT NULL,
        status        text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'revoked', 'cancelled')),
        columns       text[] NOT NULL DEFAULT '{}',  -- kind raw: table.column granted in clear
        sensitivity   text NOT NULL,
        epsilon       double precision,              -- kind budget: what to add
        delta         double precision,
        justification text NOT NULL,
        ticket        text,
        duration_ms   bigint,
        break_glass   boolean NOT NULL DEFAULT false,
        auto_approved boolean NOT NULL DEFAULT false,
        rule_index    integer NOT NULL,              -- the access.rules entry that routed it
        approver_role text NOT NULL,
        required_approvals integer NOT NULL,
        created_at    timestamptz NOT NULL,
        pending_until timestamptz NOT NULL,
        approved_at   timestamptz,
        expires_at    timestamptz,                   -- kind raw: approval + duration
        decided_at    timestamptz,
        decided_by    text,
        reason        text,
        review_due_at timestamptz,                   -- break-glass
        reviewed_at   timestamptz,
        reviewed_by   text,
        queries_used  integer NOT NULL DEFAULT 0,    -- raw-query quotas
        rows_used     bigint NOT NULL DEFAULT 0
      );
      -- at most one open request per (requester, dataset, kind), whatever the replica
      CREATE UNIQUE INDEX access_requests_open ON dpq.access_requests (requester, dataset, kind)
        WHERE status = 'pending' OR (status = 'approved' AND kind = 'raw');
      CREATE INDEX access_requests_status ON dpq.access_requests (status);
      CREATE INDEX access_requests_created ON dpq.access_requests (created_at);
      CREATE TABLE dpq.access_approvals (
        request_id  text NOT NULL REFERENCES dpq.access_requests (id),
        approver    text NOT NULL,
        at          timestamptz NOT NULL,
        comment     text,
        PRIMARY KEY (request_id, approver)
      );
      CREATE TABLE dpq.token_vault (
        token       text PRIMARY KEY,                -- tok_ + HMAC-SHA256(key, dataset, table.column, value), 128 bits
        dataset     text NOT NULL,
        column_ref  text NOT NULL,                   -- table.column
        sealed      text NOT NULL,                   -- AES-256-GCM(value), nonce and tag, base64; AAD = the token
        created_at  timestamptz NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'noisy metrics: releases and refresh leases',
    sql: `
      CREATE TABLE dpq.metric_releases (
        metric          text NOT NULL,
        seq             integer NOT NULL,
        id              text NOT NULL UNIQUE,
        released_at     timestamptz NOT NULL,
        next_release_at timestamptz NOT NULL,
        body            text NOT NULL,            -- the release, served byte-identical until the next one
        PRIMARY KEY (metric, seq)
      );
      CREATE TABLE dpq.metric_state (
        metric          text PRIMARY KEY,
        lease_until     timestamptz,              -- a replica is computing the next release until then
        lease_id        text,
        exhausted_for   text                      -- the budget limit (JSON) found spent; null while it lasts
      );
    `,
  },
  {
    version: 4,
    name: 'JIT access: extensions of a grant, reveals per grant',
    sql: `
      ALTER TABLE dpq.access_requests ADD COLUMN extends text REFERENCES dpq.access_requests (id);
      -- tokens revealed under the grant
      ALTER TABLE dpq.access_requests ADD COLUMN reveals_used bigint NOT NULL DEFAULT 0;
      CREATE INDEX access_requests_requester ON dpq.access_requests (requester, created_at);
      -- an extension request lives beside the grant it extends: the one-open-request rule is for
      -- requests of their own, and a grant has at most one pending extension
      DROP INDEX dpq.access_requests_open;
      CREATE UNIQUE INDEX access_requests_open ON dpq.access_requests (requester, dataset, kind)
        WHERE extends IS NULL AND (status = 'pending' OR (status = 'approved' AND kind = 'raw'));
      CREATE UNIQUE INDEX access_requests_extension_open ON dpq.access_requests (extends) WHERE status = 'pending';
    `,
  },
  {
    version: 5,
    name: 'alerts: counters per window, raised alerts; the audit log by time',
    sql: `
      CREATE TABLE dpq.alert_counters (
        rule        text NOT NULL,
        principal   text NOT NULL,
        dataset     text NOT NULL,                 -- '' for a rule counted per principal only
        bucket      text NOT NULL,                 -- the UTC hour or day counted
        value       double precision NOT NULL,
        PRIMARY KEY (rule, principal, dataset, bucket)
      );
      CREATE TABLE dpq.alerts (
        seq         bigserial PRIMARY KEY,
        at          timestamptz NOT NULL,
        rule        text NOT NULL,
        principal   text NOT NULL,
        dataset     text NOT NULL,                 -- '' for a rule counted per principal only
        observed    double precision NOT NULL,
        threshold   double precision NOT NULL,
        bucket      text NOT NULL,
        UNIQUE (rule, principal, dataset, bucket)
      );
      -- access reviews read the log by period
      CREATE INDEX IF NOT EXISTS audit_log_at ON dpq.audit_log (at);
    `,
  },
  {
    version: 6,
    name: 'query history',
    sql: `
      CREATE TABLE dpq.query_history (
        seq          bigserial PRIMARY KEY,
        principal    text NOT NULL,
        id           text NOT NULL,             -- the release id (q_…); a replay of it is counted, not repeated
        at           timestamptz NOT NULL,
        dataset      text NOT NULL,
        sql          text NOT NULL,             -- the caller's own text, shown to the caller only
        sql_redacted text NOT NULL,             -- literals replaced: what auditors see
        cached       boolean NOT NULL,
        epsilon      double precision NOT NULL, -- what this principal was charged for it
        delta        double precision NOT NULL,
        row_count    integer NOT NULL,
        replays      integer NOT NULL DEFAULT 0,
        body         text NOT NULL,             -- the stored release, as released
        UNIQUE (principal, id)
      );
      CREATE INDEX query_history_principal ON dpq.query_history (principal, seq);
    `,
  },
  {
    version: 7,
    name: 'zcdp filter totals',
    sql: `
      -- what the zcdp filter checks (budget/filter.ts): Σρ with a Laplace release counted as ε²/2,
      -- and the δ of the approximate-DP parts; kept under either accounting
      ALTER TABLE dpq.budget_accounts
        ADD COLUMN zrho_pico   bigint NOT NULL DEFAULT 0,
        ADD COLUMN zdelta_pico bigint NOT NULL DEFAULT 0;
      WITH costs AS (
        SELECT principal, dataset, period,
               CASE mechanism WHEN 'gaussian' THEN rho_pico
                              ELSE (CASE WHEN eps_micro < 0 THEN -1 ELSE 1 END) * div(eps_micro::numeric * eps_micro + 1, 2)::bigint
               END AS zr,
               CASE mechanism WHEN 'gaussian' THEN 0 ELSE delta_pico END AS zd
        FROM dpq.budget_events WHERE mechanism IS NOT NULL
      ), own AS (
        SELECT principal, dataset, period, sum(zr) AS zr, sum(zd) AS zd FROM costs GROUP BY principal, dataset, period
      ), total AS (
        SELECT '*'::text AS principal, dataset, period, sum(zr) AS zr, sum(zd) AS zd FROM costs GROUP BY dataset, period
      )
      UPDATE dpq.budget_accounts AS a SET zrho_pico = s.zr, zdelta_pico = s.zd
      FROM (SELECT * FROM own UNION ALL SELECT * FROM total) AS s
      WHERE a.principal = s.principal AND a.dataset = s.dataset AND a.period = s.period;
    `,
  },
];
