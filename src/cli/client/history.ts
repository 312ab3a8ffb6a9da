/** `dpq history [id]`: your answered queries, or one of them with its rows (free to read again). */
import type { HistoryDetail, HistoryList } from '../../http/schemas.ts';
import { type CliCommand, numberOption, parse } from '../command.ts';
import { client } from './http.ts';
import { FORMAT_OPTIONS, formatOf, print } from './output.ts';
import { halfWidth } from './query-options.ts';

export const historyCommand: CliCommand = {
  name: 'history',
  summary: 'your past answers (GET /v1/queries); one of them again, for free',
  usage: `[<query id>] [--limit N] [--json|--csv]`,
  async run(args) {
    const { values, positionals } = parse(args, { limit: { type: 'string' }, ...FORMAT_OPTIONS }, { max: 1 });
    const api = client();
    const format = formatOf(values);
    const id = positionals[0];
    if (id === undefined) {
      const limit = numberOption(values.limit, 'limit') ?? 20;
      const h = await api.get<HistoryList>(`/v1/queries?limit=${limit}`);
      print(format, h, ['id', 'at', 'dataset', 'ε', 'cached', 'rows', 'sql'], h.queries.map((q) => [q.id, q.at, q.dataset, q.privacy.epsilon, q.cached, q.rowCount, q.sql]));
      return 0;
    }
    const q = await api.get<HistoryDetail>(`/v1/queries/${encodeURIComponent(id)}`);
    const measured = q.columns.filter((c) => q.accuracy[c] !== undefined);
    print(format, q, [...q.columns, ...measured.map((c) => `${c}_plusminus`)], q.rows.map((r) => [...q.columns.map((c) => r[c]), ...measured.map((c) => halfWidth(q.accuracy[c]))]), [
      '',
      `${q.sql}`,
      `answered ${q.at}; ε ${q.privacy.epsilon} (${q.privacy.mechanism}); reading it again cost nothing`,
    ]);
    return 0;
  },
};
