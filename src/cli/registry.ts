/**
 * Every `dpq` command, in the order the usage lists them: add new ones here (each in its own
 * file). Names of one or two words (`access review`, `keys new`) route alike; `dpq access` alone
 * lists the group.
 */
import { approveCommand } from './client/approve.ts';
import { budgetCommand } from './client/budget.ts';
import { demoTokenCommand } from './client/demo-token.ts';
import { denyCommand } from './client/deny.ts';
import { estimateCommand } from './client/estimate.ts';
import { historyCommand } from './client/history.ts';
import { queryCommand } from './client/query.ts';
import { requestCommand } from './client/request.ts';
import { requestsCommand } from './client/requests.ts';
import { revokeCommand } from './client/revoke.ts';
import { accessReviewCommand } from './access-review.ts';
import type { CliCommand } from './command.ts';
import { LOCAL_COMMANDS } from './commands.ts';
import { keysNew } from './keys.ts';

const accessReview: CliCommand = {
  name: 'access review',
  summary: 'the access review of a running server (an auditor or admin)',
  usage: '[--from <ISO time>] [--to <ISO time>] [--json]\n\nGrants, top-ups and break-glass reviews per principal, and the policy\'s unused rules and roles (default period: the last 30 days).',
  run: accessReviewCommand,
};

const keysNewCommand: CliCommand = {
  name: 'keys new',
  summary: 'print a new id:key pair for DPQ_TOKEN_KEYS (or, with --jwt, a DPQ_JWT_SECRET)',
  usage: '[--jwt]\n\nPut the new pair first in DPQ_TOKEN_KEYS and keep the old ones listed while their tokens must reveal (docs/access.md).',
  run: keysNew,
};

/** Commands that talk to a running server (DPQ_URL, DPQ_TOKEN). */
export const CLIENT_COMMANDS: readonly CliCommand[] = [
  queryCommand,
  estimateCommand,
  budgetCommand,
  historyCommand,
  requestCommand,
  requestsCommand,
  approveCommand,
  denyCommand,
  revokeCommand,
  demoTokenCommand,
  accessReview,
];

export const COMMANDS: readonly CliCommand[] = [...LOCAL_COMMANDS, keysNewCommand, ...CLIENT_COMMANDS];
