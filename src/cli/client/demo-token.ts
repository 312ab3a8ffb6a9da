/** `dpq demo token <principal>`: a token of the running embedded demo (its secret is random per start). */
import { loadClientConfig } from '../../config/client.ts';
import { type CliCommand, out, parse } from '../command.ts';
import { ApiError } from './http.ts';

export const demoTokenCommand: CliCommand = {
  name: 'demo token',
  summary: 'a bearer token of the running embedded demo (npm start) for a principal',
  usage: `<principal>

Asks the server at DPQ_URL (default http://127.0.0.1:8080, from this machine only) for the
token its start printed. Only the embedded demo without DPQ_JWT_SECRET hands them out; with a
configured secret use npx dpq token <principal>. Use it as: export DPQ_TOKEN=$(npx dpq demo token alice)`,
  async run(args) {
    const { positionals } = parse(args, {}, { min: 1, max: 1 });
    const name = positionals[0]!;
    const { url } = loadClientConfig();
    let res: Response;
    try {
      res = await fetch(`${url}/demo/tokens`, { headers: { accept: 'application/json' } });
    } catch {
      throw new ApiError(0, 'UNAVAILABLE', `no dpq server answers at ${url} (start the demo with npm start, or set DPQ_URL)`, {});
    }
    if (res.status === 404) {
      throw new ApiError(404, 'NOT_FOUND', `${url} is not the embedded demo with per-start tokens (DATABASE_URL or DPQ_JWT_SECRET is set); mint one with npx dpq token ${name}`, {});
    }
    const body = (await res.json()) as { principals?: { name: string; token: string }[] };
    const found = body.principals?.find((p) => p.name === name);
    if (found === undefined) {
      throw new ApiError(404, 'NOT_FOUND', `the demo has no principal "${name}" with a token (it has ${(body.principals ?? []).map((p) => p.name).join(', ')})`, {});
    }
    out(found.token);
    return 0;
  },
};
