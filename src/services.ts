/** The dependencies every request handler gets, wired once by `main.ts` (or a test). */
import type { Clock } from './clock.ts';
import type { RandomSource } from './dp/index.ts';
import type { Config, TokenKey } from './config/index.ts';
import type { Telemetry } from './telemetry.ts';
import type { Logger } from './log.ts';
import type { Principal } from './policy/authorize.ts';
import type { Policy } from './policy/schema.ts';
import type { StateStore } from './state/store.ts';
import type { Warehouse } from './warehouse/adapter.ts';

/** Turns an `Authorization` header into a principal of the policy (implemented in http/auth.ts). */
export interface Authenticator {
  authenticate(header: string | undefined): Promise<Principal>;
}

export interface Services {
  readonly config: Config;
  readonly policy: Policy;
  readonly warehouse: Warehouse;
  readonly state: StateStore;
  readonly auth: Authenticator;
  readonly logger: Logger;
  readonly telemetry: Telemetry;
  readonly clock: Clock;
  /** The key for tokenizing and hashing sensitive values (undefined when no policy needs one). */
  readonly tokenKey: Buffer | undefined;
  /** Every token key, newest first: new tokens use the first, old tokens reveal while their key is listed. */
  readonly tokenKeys?: readonly TokenKey[] | undefined;
  /** Noise randomness: node:crypto, or seedrandom behind DPQ_NOISE_SEED (tests and demos). */
  readonly rng: RandomSource;
}
