/**
 * The statement that opens every warehouse read (or, with `begin` false, configures the transaction
 * a driver has just opened): a READ ONLY transaction, a local statement
 * timeout and, when configured, a local low-privilege role. Sent as one simple-protocol message;
 * the timeout is an integer and the role a validated identifier, so nothing here comes from a user.
 */
const ROLE = /^[a-z_][a-z0-9_]*$/;

export function readPreamble(timeoutMs: number, role: string | undefined, begin = true): string {
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new Error('statement timeout must be a positive integer');
  let sql = `${begin ? 'BEGIN TRANSACTION READ ONLY' : 'SET TRANSACTION READ ONLY'}; SET LOCAL statement_timeout = ${timeoutMs};`;
  if (role !== undefined) {
    if (!ROLE.test(role)) throw new Error('reader role must be a plain lower-case identifier');
    sql += ` SET LOCAL ROLE ${role};`;
  }
  return sql;
}
