/** How refusals are shown: the API's code and message, and for SQL refusals the spot in the SQL. */
import { ApiError, messageOf } from './api.ts';
import { h } from './dom.ts';

/**
 * The SQL with the refused construct marked: `details.position` is a 0-based index into the SQL
 * as a JavaScript string (src/sql/source.ts), so `sql.slice(position)` starts at the construct.
 */
export function sqlAt(sql: string, position: number): HTMLElement {
  const at = Math.max(0, Math.min(position, sql.length));
  const rest = sql.slice(at);
  const token = /^(\w+|\s+|.)?/s.exec(rest)?.[0] ?? '';
  const before = sql.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return h(
    'div',
    { class: 'sql-at' },
    h('p', {}, `At line ${line}, column ${column}:`),
    h('pre', {}, h('code', {}, before, h('mark', { class: 'sql-mark' }, token === '' ? '⟂' : token), rest.slice(token.length))),
  );
}

/** An error box (role="alert"); SQL refusals show the hint and the position in `sql`. */
export function errorBox(err: unknown, sql?: string): HTMLElement {
  const box = h('div', { class: 'error', role: 'alert' }, h('p', {}, messageOf(err)));
  if (err instanceof ApiError) {
    const d = err.details;
    if (typeof d.hint === 'string') box.append(h('p', { class: 'hint-text' }, h('strong', {}, 'Hint: '), d.hint));
    if (sql !== undefined && typeof d.position === 'number' && (err.code === 'SQL_NOT_ALLOWED' || err.code === 'SQL_SYNTAX')) {
      box.append(sqlAt(sql, d.position));
      box.dataset.position = String(d.position);
    }
  }
  return box;
}
