/**
 * The source address of a request, for access conditions (api.md, JIT access): the socket's peer,
 * or — only when the peer is in `DPQ_TRUST_PROXY` — the first `X-Forwarded-For` hop (the client
 * as the proxy saw it). Anyone else's `X-Forwarded-For` is ignored: it is just a header.
 */
import net from 'node:net';
import type { RequestHandler } from 'express';
import { addressAllowed, type Cidr, parseAddress } from '../policy/conditions.ts';

export function sourceAddressOf(peer: string | undefined, forwardedFor: string | undefined, trusted: readonly Cidr[] | undefined): string | undefined {
  if (trusted === undefined || forwardedFor === undefined || !addressAllowed(peer, trusted)) return peer;
  const first = forwardedFor.split(',')[0]?.trim().replace(/^\[([^\]]+)\](:\d+)?$/, '$1');
  if (first === undefined) return peer;
  // `1.2.3.4:5678` (some proxies add the port)
  const candidate = net.isIP(first) === 0 && /^\d+\.\d+\.\d+\.\d+:\d+$/.test(first) ? first.replace(/:\d+$/, '') : first;
  return parseAddress(candidate) === undefined ? peer : candidate;
}

/** Put the source address in `res.locals.sourceAddress`. */
export function sourceAddress(trusted: readonly Cidr[] | undefined): RequestHandler {
  return (req, res, next) => {
    res.locals.sourceAddress = sourceAddressOf(req.socket.remoteAddress, req.get('x-forwarded-for'), trusted);
    next();
  };
}
