/** `dpq requests [--pending] [--mine]`: access requests you made or may decide. */
import { type CliCommand, parse } from '../command.ts';
import { client } from './http.ts';
import { FORMAT_OPTIONS, formatOf, print } from './output.ts';
import { type AccessRequestView, REQUEST_HEADERS, requestRow } from './request-view.ts';

export const requestsCommand: CliCommand = {
  name: 'requests',
  summary: 'list access requests (yours, and those you may approve)',
  usage: `[--pending] [--mine] [--json|--csv]

  --pending   only requests waiting for a decision (an approver's queue)
  --mine      only your own`,
  async run(args) {
    const { values } = parse(args, { pending: { type: 'boolean' }, mine: { type: 'boolean' }, ...FORMAT_OPTIONS }, { max: 0 });
    const q = new URLSearchParams();
    if (values.pending === true) q.set('status', 'pending');
    if (values.mine === true) q.set('mine', 'true');
    const r = await client().get<{ requests: AccessRequestView[] }>(`/v1/access-requests${q.size === 0 ? '' : `?${q}`}`);
    print(formatOf(values), r, REQUEST_HEADERS, r.requests.map(requestRow), r.requests.length === 0 ? ['(no requests)'] : []);
    return 0;
  },
};
