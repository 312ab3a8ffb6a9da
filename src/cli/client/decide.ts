/** The decision commands' shared part: `POST /v1/access-requests/:id/<action>` and the request after it. */
import { type CliCommand, parse, UsageError } from '../command.ts';
import { client } from './http.ts';
import { FORMAT_OPTIONS, formatOf } from './output.ts';
import { type AccessRequestView, printRequest } from './request-view.ts';

export function decisionCommand(action: 'approve' | 'deny' | 'revoke', summary: string, note: 'comment' | 'reason'): CliCommand {
  const required = note === 'reason';
  return {
    name: action,
    summary,
    usage: `<request id> ${required ? '--reason "…"' : '[--comment "…"]'} [--json|--csv]`,
    async run(args) {
      const { values, positionals } = parse(args, { [note]: { type: 'string' }, ...FORMAT_OPTIONS }, { min: 1, max: 1 });
      const text = (values as Record<string, string | boolean | undefined>)[note];
      if (required && (typeof text !== 'string' || text.trim() === '')) throw new UsageError(`--reason is required: the requester sees it`);
      const id = positionals[0]!;
      const body = typeof text === 'string' ? { [note]: text } : {};
      printRequest(formatOf(values), await client().post<AccessRequestView>(`/v1/access-requests/${encodeURIComponent(id)}/${action}`, body));
      return 0;
    },
  };
}
