/** `dpq approve <id> [--comment …]` */
import { decisionCommand } from './decide.ts';

export const approveCommand = decisionCommand('approve', 'approve an access request', 'comment');
