/** `dpq request raw|budget …`: file a JIT access request (POST /v1/access-requests). */
import { type CliCommand, numberOption, parse, UsageError } from '../command.ts';
import { client } from './http.ts';
import { FORMAT_OPTIONS, formatOf } from './output.ts';
import { type AccessRequestView, printRequest } from './request-view.ts';

export const requestCommand: CliCommand = {
  name: 'request',
  summary: 'ask for raw access or more budget',
  usage: `raw|budget --justification "…" [options]

  raw     --columns t.c,t.c   columns to see in clear (others stay masked)
          --minutes N         how long the grant lasts (default 60)
          --break-glass       emergency self-grant (policy breakGlass roles)
  budget  --epsilon E [--delta D]   what to add to your budget
  common  --dataset D (default clinic if it is the only one) --ticket T --json|--csv`,
  async run(args) {
    const { values, positionals } = parse(
      args,
      {
        dataset: { type: 'string' },
        columns: { type: 'string' },
        minutes: { type: 'string' },
        'break-glass': { type: 'boolean' },
        epsilon: { type: 'string' },
        delta: { type: 'string' },
        justification: { type: 'string' },
        ticket: { type: 'string' },
        ...FORMAT_OPTIONS,
      },
      { min: 1, max: 1 },
    );
    const kind = positionals[0];
    if (kind !== 'raw' && kind !== 'budget') throw new UsageError('say what to request: raw or budget');
    if (values.justification === undefined) throw new UsageError('--justification is required (why, and a ticket id if you have one)');
    const api = client();
    const dataset = values.dataset ?? (await onlyDataset(api));
    const body: Record<string, unknown> = { kind, dataset, justification: values.justification };
    if (values.ticket !== undefined) body.ticket = values.ticket;
    if (kind === 'raw') {
      body.columns = (values.columns ?? '').split(',').map((c) => c.trim()).filter((c) => c !== '');
      body.durationMinutes = numberOption(values.minutes, 'minutes') ?? 60;
      if (values['break-glass'] === true) body.breakGlass = true;
    } else {
      const epsilon = numberOption(values.epsilon, 'epsilon');
      if (epsilon === undefined) throw new UsageError('a budget request needs --epsilon');
      body.epsilon = epsilon;
      const delta = numberOption(values.delta, 'delta');
      if (delta !== undefined) body.delta = delta;
    }
    printRequest(formatOf(values), await api.post<AccessRequestView>('/v1/access-requests', body));
    return 0;
  },
};

async function onlyDataset(api: ReturnType<typeof client>): Promise<string> {
  const { datasets } = await api.get<{ datasets: { name: string }[] }>('/v1/datasets');
  if (datasets.length !== 1) throw new UsageError(`name the dataset with --dataset (${datasets.map((d) => d.name).join(', ') || 'none may be queried'})`);
  return datasets[0]!.name;
}
