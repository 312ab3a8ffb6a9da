/**
 * The low-privilege role warehouse reads run as (privacy.md, Side channels): it can read the
 * dataset tables of the policy and nothing else — not schema `dpq`, not other tables. Created when
 * the connecting user may create roles, and granted to it so that it may SET ROLE; start-up then
 * probes a read as the role and refuses to start when that fails. When the role cannot be created
 * at all, dpq reads as the connecting user, which the operator must then restrict (start-up logs a
 * warning).
 */
import type { Policy } from '../policy/schema.ts';
import type { SqlTarget } from './demo.ts';

export const READER_ROLE = 'dpq_reader';

const quote = (id: string): string => `"${id.replace(/"/g, '""')}"`;

/** Create/refresh the reader role; returns its name, or undefined when it cannot be set up. */
export async function ensureReaderRole(target: SqlTarget, policy: Policy): Promise<string | undefined> {
  try {
    await target.query(`DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${READER_ROLE}') THEN
          CREATE ROLE ${READER_ROLE} NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
        END IF;
      END $$`);
    // The connecting user must be able to SET ROLE to it (a non-superuser needs the membership).
    await target.query(`GRANT ${READER_ROLE} TO CURRENT_USER`);
    for (const dataset of Object.values(policy.datasets)) {
      await target.query(`GRANT USAGE ON SCHEMA ${quote(dataset.schema)} TO ${READER_ROLE}`);
      for (const table of Object.keys(dataset.tables)) {
        await target.query(`GRANT SELECT ON ${quote(dataset.schema)}.${quote(table)} TO ${READER_ROLE}`);
      }
    }
    return READER_ROLE;
  } catch {
    return undefined;
  }
}
