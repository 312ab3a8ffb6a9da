/** `dpq revoke <id> --reason …` */
import { decisionCommand } from './decide.ts';

export const revokeCommand = decisionCommand('revoke', 'revoke an active grant, with a reason', 'reason');
