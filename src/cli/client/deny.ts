/** `dpq deny <id> --reason …` */
import { decisionCommand } from './decide.ts';

export const denyCommand = decisionCommand('deny', 'deny an access request, with a reason', 'reason');
