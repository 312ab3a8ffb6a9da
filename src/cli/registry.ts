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
import type { CliCommand } from './command.ts';
import { LOCAL_COMMANDS } from './commands.ts';

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
];

export const COMMANDS: readonly CliCommand[] = [...LOCAL_COMMANDS, ...CLIENT_COMMANDS];
