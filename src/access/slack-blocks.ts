/**
 * The Slack messages of request notifications (slack.ts has the inbound side): the text, a link to
 * the console and, for a new pending request, a reason field and Approve / Deny buttons. Apart
 * from slack.ts so that the access context can decorate notifications without importing the
 * approval flow (which imports the context).
 */
import type { Notification } from './notify.ts';

export const APPROVE_ACTION = 'dpq_approve';
export const DENY_ACTION = 'dpq_deny';
export const REASON_ACTION = 'dpq_reason';
export const REASON_BLOCK = 'dpq_reason_block';

/** The console's page for a request (the approver's queue, scrolled to it). */
export function consoleLink(publicUrl: string, requestId: string): string {
  return `${publicUrl}/#/approver?request=${encodeURIComponent(requestId)}`;
}

/** Slack `blocks` for a request notification: the text, a console link, and for a new pending request the buttons. */
export function slackBlocks(n: Notification, text: string, publicUrl: string): Record<string, unknown>[] {
  const r = n.request;
  const blocks: Record<string, unknown>[] = [
    { type: 'section', text: { type: 'mrkdwn', text }, accessory: { type: 'button', text: { type: 'plain_text', text: 'Open in dpq' }, url: consoleLink(publicUrl, r.id), action_id: 'dpq_open' } },
  ];
  if (n.event === 'created' && r.status === 'pending') {
    blocks.push(
      { type: 'input', block_id: REASON_BLOCK, optional: true, label: { type: 'plain_text', text: 'Reason (needed to deny; the requester sees it)' }, element: { type: 'plain_text_input', action_id: REASON_ACTION } },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: APPROVE_ACTION, value: r.id, style: 'primary', text: { type: 'plain_text', text: 'Approve' } },
          { type: 'button', action_id: DENY_ACTION, value: r.id, style: 'danger', text: { type: 'plain_text', text: 'Deny' } },
        ],
      },
    );
  }
  return blocks;
}
