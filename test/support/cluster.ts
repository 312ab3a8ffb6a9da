/**
 * The one PostgreSQL cluster of a test run, started by the root hooks (`test/setup/hooks.ts`).
 * Tests call `postgresCluster()`; it is undefined only when PostgreSQL is missing and
 * DPQ_TEST_REQUIRE_POSTGRES is not set (CI sets it, so there a missing PostgreSQL fails).
 */
import type { Cluster } from './postgres.ts';

let current: Cluster | undefined;

export function setCluster(c: Cluster | undefined): void {
  current = c;
}

/** The running cluster; throws when the run has none. */
export function postgresCluster(): Cluster {
  if (current === undefined) throw new Error('no PostgreSQL cluster in this test run');
  return current;
}
