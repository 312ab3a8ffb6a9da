import { expect } from 'chai';
import { privacyEvent } from '../../src/dp/index.ts';
import { readStatus, refund, reserve, topUp, type ReserveInput } from '../../src/budget/ledger.ts';
import { periodOf } from '../../src/budget/period.ts';
import type { StateStore } from '../../src/state/store.ts';
import { freshStateStore } from '../support/state.ts';

async function freshStore(): Promise<StateStore> {
  return (await freshStateStore()).store;
}

describe('budget ledger (PostgreSQL)', function () {
  this.timeout(60_000);
  let store: StateStore;
  beforeEach(async () => {
    store = await freshStore();
  });
  afterEach(async () => store?.close());

  const key = { principal: 'alice', dataset: 'clinic', period: '' };
  const input = (events: ReserveInput['events'], limit = { epsilon: 1, delta: 1e-6 }, total?: { epsilon: number; delta: number }): ReserveInput => ({
    key,
    events,
    limit,
    total,
    kind: 'query',
    reference: 'test',
    at: new Date(),
  });
  const charge = (i: ReserveInput) => store.transaction((tx) => reserve(tx, i));

  it('adds amounts exactly: 0.1 + 0.2 spends 0.3, and 0.7 more fits a limit of 1 exactly', async () => {
    await charge(input([privacyEvent('laplace', { epsilon: 0.1 })]));
    const r = await charge(input([privacyEvent('laplace', { epsilon: 0.2 })]));
    expect(r.ok && r.status.epsilon).to.deep.equal({ limit: 1, spent: 0.3, remaining: 0.7 });
    expect((await charge(input([privacyEvent('laplace', { epsilon: 0.7 })]))).ok).to.equal(true);
    const over = await charge(input([privacyEvent('laplace', { epsilon: 0.000001 })]));
    expect(over.ok).to.equal(false);
    if (!over.ok) expect(over.refusal).to.deep.include({ scope: 'principal', remaining: { epsilon: 0, delta: 1e-6 } });
  });

  it('never lowers what is spent when Laplace and Gaussian releases mix', async () => {
    let spent = 0;
    for (let i = 0; i < 10; i++) {
      const r = await charge(input([privacyEvent('laplace', { epsilon: 0.05 })], { epsilon: 10, delta: 1e-6 }));
      expect(r.ok).to.equal(true);
      if (r.ok) spent = r.status.epsilon.spent;
    }
    const g = await charge(input([privacyEvent('gaussian', { epsilon: 0.5, delta: 1e-7, rho: 0.01 })], { epsilon: 10, delta: 1e-6 }));
    expect(g.ok).to.equal(true);
    if (g.ok) {
      expect(g.status.epsilon.spent).to.be.closeTo(spent + 0.5, 1e-9);
      expect(g.status.delta.spent).to.equal(1e-7);
    }
  });

  it('refuses on the dataset total when it is what runs out', async () => {
    const r = await charge(input([privacyEvent('laplace', { epsilon: 0.5 })], { epsilon: 1, delta: 0 }, { epsilon: 0.4, delta: 0 }));
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.refusal.scope).to.equal('dataset');
  });

  it('gives a refund back exactly, and a top-up raises the limit', async () => {
    const e = [privacyEvent('laplace', { epsilon: 0.3 })];
    await charge(input(e));
    await store.transaction((tx) => refund(tx, { ...input(e), at: new Date() }));
    expect((await readStatus(store, key, { epsilon: 1, delta: 0 })).epsilon.spent).to.equal(0);
    await store.transaction((tx) => topUp(tx, key, { epsilon: 2, delta: 0 }, 'ar_x', new Date()));
    expect((await readStatus(store, key, { epsilon: 1, delta: 0 })).epsilon.limit).to.equal(3);
  });

  it('starts a new account each calendar period', () => {
    const at = new Date(Date.UTC(2026, 10, 23, 12));
    expect(periodOf('never', at)).to.deep.equal({ key: '', renews: null });
    expect(periodOf('daily', at).key).to.equal('2026-11-23');
    expect(periodOf('monthly', at)).to.deep.equal({ key: '2026-11', renews: new Date(Date.UTC(2026, 11, 1)) });
    expect(periodOf('weekly', at)).to.deep.equal({ key: '2026-W48', renews: new Date(Date.UTC(2026, 10, 30)) });
    expect(periodOf('weekly', new Date(Date.UTC(2027, 0, 1))).key).to.equal('2026-W53');
  });
});
