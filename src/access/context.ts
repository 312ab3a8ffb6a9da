/**
 * What the JIT access endpoints share per running service: the notifier, the mask keys derived
 * from DPQ_TOKEN_KEY, and the access metrics. Made once per `Services` (the route modules of one
 * app share it; several apps in one test process each get their own).
 */
import client from 'prom-client';
import type { Principal } from '../policy/authorize.ts';
import type { Services } from '../services.ts';
import { deriveKeyring, LEGACY_KEY_ID, type MaskKeyring, type MaskKeys } from './masking.ts';
import { createNotifier, type Notification, type Notifier } from './notify.ts';
import { slackBlocks } from './slack-blocks.ts';
import { type AlertEngine, startAlerts } from './alerts.ts';

export interface AccessMetrics {
  readonly events: client.Counter<'event'>;
  readonly rawQueries: client.Counter<'dataset' | 'outcome'>;
  readonly rawRows: client.Counter<'dataset'>;
  readonly reveals: client.Counter<'dataset'>;
  readonly notifications: client.Counter<'outcome'>;
  readonly deadLetters: client.Counter<'kind'>;
}

export interface AccessContext {
  readonly services: Services;
  readonly notifier: Notifier;
  /** The newest token key's subkeys (new tokens, hashes, vault writes). */
  readonly keys: MaskKeys | undefined;
  /** Every listed token key, for reveals of tokens made before a rotation. */
  readonly keyring: MaskKeyring | undefined;
  readonly metrics: AccessMetrics;
  readonly alerts: AlertEngine;
}

/** Who acts, and the `x-request-id` of the HTTP request (for the audit log). */
export interface Actor {
  readonly principal: Principal;
  readonly httpRequestId: string;
  /** The request's source address (http/source-address.ts), for rule conditions. */
  readonly sourceAddress?: string | undefined;
}

/** Count and send notifications (after the transaction that made them has committed). */
export function announce(ctx: AccessContext, notifications: readonly Notification[]): void {
  for (const n of notifications) ctx.metrics.events.inc({ event: n.event });
  ctx.notifier.notify(notifications);
}

const contexts = new WeakMap<Services, AccessContext>();

function createMetrics(registry: client.Registry): AccessMetrics {
  return {
    events: new client.Counter({
      name: 'dpq_access_request_events_total',
      help: 'JIT access request transitions (created, approved, denied, expired, revoked, cancelled, break-glass, reviewed)',
      labelNames: ['event'],
      registers: [registry],
    }),
    rawQueries: new client.Counter({
      name: 'dpq_raw_queries_total',
      help: 'Raw queries under JIT grants by outcome (answered, refused, failed)',
      labelNames: ['dataset', 'outcome'],
      registers: [registry],
    }),
    rawRows: new client.Counter({
      name: 'dpq_raw_rows_total',
      help: 'Rows returned by raw queries',
      labelNames: ['dataset'],
      registers: [registry],
    }),
    reveals: new client.Counter({
      name: 'dpq_token_reveals_total',
      help: 'Tokens revealed in clear under JIT grants',
      labelNames: ['dataset'],
      registers: [registry],
    }),
    notifications: new client.Counter({
      name: 'dpq_access_notifications_total',
      help: 'Webhook notifications of access events by outcome (sent, failed)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    deadLetters: new client.Counter({
      name: 'dpq_notifications_dead_letters_total',
      help: 'Notifications given up after every attempt (timeouts, refusals, errors), by kind (access, alert)',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}

export function accessContext(services: Services): AccessContext {
  let ctx = contexts.get(services);
  if (ctx === undefined) {
    const metrics = createMetrics(services.telemetry.registry);
    const slackSecret = services.config.slackSigningSecret;
    const keyring = deriveKeyring(services.tokenKeys ?? (services.tokenKey === undefined ? [] : [{ id: LEGACY_KEY_ID, key: services.tokenKey }]));
    const notifier = createNotifier({
      webhook: services.policy.access.notify?.webhook,
      logger: services.logger,
      onResult: (outcome) => metrics.notifications.inc({ outcome }),
      onDeadLetter: (kind) => metrics.deadLetters.inc({ kind }),
      ...(slackSecret === undefined ? {} : { decorate: (n, body) => ({ ...body, blocks: slackBlocks(n, String(body.text), services.config.publicUrl) }) }),
    });
    ctx = Object.freeze({
      services,
      metrics,
      notifier,
      alerts: startAlerts(services, notifier),
      keys: keyring?.newest,
      keyring,
    });
    contexts.set(services, ctx);
  }
  return ctx;
}
