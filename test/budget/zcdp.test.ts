import { expect } from 'chai';
import { epsilonToZcdp, privacyEvent, privacyEventFromUnits, rhoToPico, zcdpToEpsilon, type PrivacyEvent } from '../../src/dp/index.ts';
import { type Accounting, zcdpBudget } from '../../src/budget/filter.ts';
import { readStatus, refund, reserve, type Limit, type ReserveInput } from '../../src/budget/ledger.ts';
import type { StateStore } from '../../src/state/store.ts';
import { policyVariant } from '../support/policy.ts';
import { freshStateStore } from '../support/state.ts';

/** A Gaussian release at (ε, δ) as the budget split charges it (dp/budget-split.ts). */
const gaussian = (epsilon: number, delta: number): PrivacyEvent =>
  privacyEventFromUnits({ mechanism: 'gaussian', epsilon: epsilon * 1e6, delta: delta * 1e12, rho: rhoToPico(epsilonToZcdp(epsilon, delta), 'down') });

describe('zcdp accounting: the ρ filter (PostgreSQL)', function () {
  this.timeout(120_000);
  let store: StateStore;
  beforeEach(async () => {
    store = (await freshStateStore()).store;
  });
  afterEach(async () => store?.close());

  let n = 0;
  const input = (events: readonly PrivacyEvent[], limit: Limit, accounting: Accounting, total?: Limit): ReserveInput => ({
    key: { principal: `p${++n}`, dataset: 'clinic', period: '' },
    events,
    limit,
    total,
    accounting,
    kind: 'query',
    reference: 'test',
    at: new Date(),
  });
  const charge = (i: ReserveInput) => store.transaction((tx) => reserve(tx, i));

  /** How many times `events` are admitted on one fresh account before the first refusal. */
  async function admitted(events: readonly PrivacyEvent[], limit: Limit, accounting: Accounting, cap = 5000): Promise<number> {
    const base = input(events, limit, accounting);
    for (let i = 0; i < cap; i++) {
      if (!(await charge({ ...base, reference: `r${i}` })).ok) return i;
    }
    throw new Error(`more than ${cap} admitted`);
  }

  it('admits Gaussian releases at (0.2, 1e-7) at least 10× more often in the demo analyst limit than basic', async () => {
    const limit = policyVariant().datasets.clinic!.budget.analyst;
    const release = gaussian(0.2, 1e-7);
    const basic = await admitted([release], limit, 'basic');
    const zcdp = await admitted([release], limit, 'zcdp');
    // basic: δ runs out after 1e-6 / 1e-7 releases; zcdp: ρ_L / ρ, both computed independently here.
    expect(basic).to.equal(10);
    expect(zcdp).to.equal(Math.floor(zcdpBudget({ epsMicro: limit.epsilon * 1e6, deltaPico: limit.delta * 1e12 }).rhoPico / release.rho));
    expect(zcdp).to.be.at.least(10 * basic);
  });

  it('reports spent and remaining as (ε, δ): the conversion of Σρ at δ/2', async () => {
    const limit = { epsilon: 10, delta: 1e-6 };
    const release = gaussian(0.2, 1e-7);
    const i = input([release], limit, 'zcdp');
    for (let k = 0; k < 50; k++) expect((await charge(i)).ok).to.equal(true);
    const s = await readStatus(store, i.key, limit, 'zcdp');
    const expected = zcdpToEpsilon((50 * release.rho) / 1e12, 5e-7);
    expect(s.epsilon.spent).to.be.closeTo(expected, 2e-6);
    expect(s.epsilon.spent).to.be.below(2); // basic would have charged 10 (and refused after 10)
    expect(s.epsilon.remaining).to.be.closeTo(10 - s.epsilon.spent, 1e-9);
    expect(s.delta).to.deep.equal({ limit: 1e-6, spent: 5e-7, remaining: 5e-7 });
  });

  it('keeps the approximate δ exactly: partition selection spends the other half of δ, and a refund restores it', async () => {
    const limit = { epsilon: 10, delta: 1e-6 };
    const selection = privacyEvent('laplace', { epsilon: 0.1, delta: 1e-7 });
    const i = input([gaussian(0.2, 1e-7), selection], limit, 'zcdp');
    for (let k = 0; k < 5; k++) expect((await charge(i)).ok, `release ${k}`).to.equal(true);
    const sixth = await charge(i);
    expect(sixth.ok).to.equal(false);
    if (!sixth.ok) expect(sixth.refusal).to.deep.include({ scope: 'principal' });
    expect((await readStatus(store, i.key, limit, 'zcdp')).delta).to.deep.equal({ limit: 1e-6, spent: 1e-6, remaining: 0 });
    const rows = async () =>
      (await store.query<{ z: string; d: string }>(`SELECT zrho_pico::text AS z, zdelta_pico::text AS d FROM dpq.budget_accounts WHERE principal = $1`, [i.key.principal])).rows[0];
    const before = await rows();
    expect(before!.d).to.equal('500000');
    await store.transaction((tx) => refund(tx, i));
    const after = await rows();
    expect(BigInt(after!.d)).to.equal(400000n);
    expect(BigInt(before!.z) - BigInt(after!.z)).to.equal(BigInt(gaussian(0.2, 1e-7).rho) + 5_000_000_000n); // ρ + 0.1²/2
    expect((await charge(i)).ok).to.equal(true);
  });

  it('checks the dataset total with its own ρ budget', async () => {
    const limit = { epsilon: 10, delta: 1e-6 };
    const total = { epsilon: 1, delta: 1e-6 };
    const release = gaussian(0.2, 1e-7);
    const expected = Math.floor(zcdpBudget({ epsMicro: 1e6, deltaPico: 1e6 }).rhoPico / release.rho);
    let ok = 0;
    for (let k = 0; k < expected + 5; k++) {
      const r = await charge(input([release], limit, 'zcdp', total));
      if (r.ok) ok++;
      else expect(r.refusal.scope).to.equal('dataset');
    }
    expect(ok).to.equal(expected);
  });

  it('is worse than basic for a few large Laplace releases, as the policy comment says', async () => {
    const limit = { epsilon: 10, delta: 1e-6 };
    const release = privacyEvent('laplace', { epsilon: 1 });
    expect(await admitted([release], limit, 'basic')).to.equal(10);
    expect(await admitted([release], limit, 'zcdp')).to.be.below(10);
  });

  it('keeps basic accounting for a limit without δ (a metric budget)', async () => {
    const limit = { epsilon: 1, delta: 0 };
    expect(await admitted([privacyEvent('laplace', { epsilon: 0.1 })], limit, 'zcdp')).to.equal(10);
  });
});
