/** `dpq query "<sql>"`: a noisy answer with each value's ±, then the cost and the remaining budget. */
import type { QueryAnswer } from '../../http/schemas.ts';
import { type CliCommand, parse } from '../command.ts';
import { client } from './http.ts';
import { formatOf, print, text } from './output.ts';
import { halfWidth, QUERY_OPTIONS, QUERY_OPTIONS_HELP, queryBody } from './query-options.ts';

export const queryCommand: CliCommand = {
  name: 'query',
  summary: 'run an aggregate query on the server (DPQ_URL, DPQ_TOKEN)',
  usage: `"<sql>" [options]

Runs the query with POST /v1/queries and prints each noisy value with its ± (the noise
interval), then what it cost and the budget left.

${QUERY_OPTIONS_HELP}`,
  async run(args) {
    const { values, positionals } = parse(args, QUERY_OPTIONS, { min: 1, max: 1 });
    const a = await client().post<QueryAnswer>('/v1/queries', queryBody(positionals[0]!, values));
    const format = formatOf(values);
    const measured = a.columns.filter((c) => a.accuracy[c] !== undefined);
    if (format === 'csv') {
      const headers = [...a.columns, ...measured.map((c) => `${c}_plusminus`)];
      print(format, a, headers, a.rows.map((r) => [...a.columns.map((c) => r[c]), ...measured.map((c) => halfWidth(a.accuracy[c]))]));
      return 0;
    }
    const rows = a.rows.map((r) =>
      a.columns.map((c) => {
        const hw = halfWidth(a.accuracy[c]);
        return hw === undefined ? r[c] : `${text(r[c])} ± ${text(Number(hw.toPrecision(3)))}`;
      }),
    );
    const p = a.privacy;
    const b = a.budget;
    print(format, a, a.columns, rows, [
      '',
      `${a.rows.length} row(s) from ${a.dataset}; ± is the ${Math.round((Object.values(a.accuracy)[0]?.confidence ?? 0.95) * 100)}% noise interval.`,
      p.cached
        ? `cost: nothing (a cached answer, released with ε ${text(p.released.epsilon)})`
        : `cost: ε ${text(p.epsilon)}, δ ${text(p.delta)} (${p.mechanism})`,
      `budget left: ε ${text(b.epsilon.remaining)} of ${text(b.epsilon.limit)}, δ ${text(b.delta.remaining)} of ${text(b.delta.limit)}`,
      `id: ${a.id} (npx dpq history shows past answers)`,
    ]);
    return 0;
  },
};
