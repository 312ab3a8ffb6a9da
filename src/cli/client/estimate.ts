/** `dpq estimate "<sql>"`: what a query would cost and how accurate it would be; spends nothing. */
import type { EstimateResponse } from '../../http/schemas.ts';
import { type CliCommand, numberOption, parse, UsageError } from '../command.ts';
import { client } from './http.ts';
import { formatOf, print, text } from './output.ts';
import { halfWidth, QUERY_OPTIONS, QUERY_OPTIONS_HELP, queryBody } from './query-options.ts';

export const estimateCommand: CliCommand = {
  name: 'estimate',
  summary: 'the cost and accuracy of a query, without running it',
  usage: `"<sql>" [options] [--column C --half-width W]

POST /v1/queries/estimate: charges nothing and reads no data. With --column and --half-width
instead of --epsilon it answers the ε that gives that half-width.

${QUERY_OPTIONS_HELP}`,
  async run(args) {
    const { values, positionals } = parse(args, { ...QUERY_OPTIONS, column: { type: 'string' }, 'half-width': { type: 'string' } }, { min: 1, max: 1 });
    const body = queryBody(positionals[0]!, values);
    const hw = numberOption(values['half-width'], 'half-width');
    if ((hw === undefined) !== (values.column === undefined)) throw new UsageError('--column and --half-width go together');
    if (hw !== undefined) body.accuracy = { column: values.column, halfWidth: hw };
    const e = await client().post<EstimateResponse>('/v1/queries/estimate', body);
    const rows = Object.entries(e.accuracy).map(([c, a]) => [c, halfWidth(a) ?? ('note' in a ? a.note : ''), a.confidence]);
    print(formatOf(values), e, ['column', '±', 'confidence'], rows, [
      '',
      `would cost: ε ${text(e.epsilon)}, δ ${text(e.delta)} (${e.mechanism}) on ${e.dataset}; budget left: ε ${text(e.budget.epsilon.remaining)}`,
      e.allowed ? 'allowed: yes' : `allowed: no — ${e.reason ?? 'refused'}`,
    ]);
    return 0;
  },
};
