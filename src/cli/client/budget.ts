/** `dpq budget`: the caller's ε/δ per dataset. */
import type { z } from 'zod';
import type { budgetList } from '../../http/schemas.ts';
import { type CliCommand, parse } from '../command.ts';
import { client } from './http.ts';
import { FORMAT_OPTIONS, formatOf, print } from './output.ts';

export const budgetCommand: CliCommand = {
  name: 'budget',
  summary: 'your privacy budget per dataset',
  usage: `[--json|--csv]

GET /v1/budget: ε and δ spent, limit and remaining per dataset, and when it renews.`,
  async run(args) {
    const { values } = parse(args, FORMAT_OPTIONS, { max: 0 });
    const b = await client().get<z.infer<typeof budgetList>>('/v1/budget');
    print(
      formatOf(values),
      b,
      ['dataset', 'ε spent', 'ε limit', 'ε remaining', 'δ spent', 'δ limit', 'δ remaining', 'renews'],
      b.budgets.map((x) => [x.dataset, x.epsilon.spent, x.epsilon.limit, x.epsilon.remaining, x.delta.spent, x.delta.limit, x.delta.remaining, x.renews ?? 'never']),
    );
    return 0;
  },
};
