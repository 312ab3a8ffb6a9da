import { expect } from 'chai';
import { splitBudget } from '../../src/dp/index.ts';
import { budgetRequestFor } from '../../src/queries/prepare.ts';
import { plan } from '../sql/support.ts';

describe('budget request of a plan', () => {
  it("names each of the plan's measurements for the split, in plan order, and nothing else", async () => {
    const p = await plan('SELECT COUNT(*), COUNT(DISTINCT patient_id), SUM(cost), AVG(cost), VARIANCE(cost), MEDIAN(cost) FROM visits');
    const request = budgetRequestFor({ mechanism: 'laplace', delta: 0 }, p);
    expect(request.measurements.map((m) => [m.aggregate, m.part])).to.deep.equal([
      [0, 'count'],
      [1, 'count_distinct'],
      [2, 'sum'],
      [3, 'sum'],
      [3, 'count'],
      [4, 'count'],
      [4, 'sum'],
      [4, 'sum_of_squares'],
      [5, 'quantile'],
    ]);
    expect(request.measurements.map((m) => m.aggregate)).to.deep.equal(p.measurements.map((m) => m.aggregate));
    const split = splitBudget({ ...request, epsilon: 0.9 });
    expect(split.measurements).to.have.length(p.measurements.length);
    expect(split.measurements.at(-1)!.mechanism).to.equal('exponential');
  });

  it('asks for partition selection exactly when a group key has no public domain', async () => {
    const grouped = await plan('SELECT diagnosis, COUNT(*) FROM visits GROUP BY diagnosis');
    const publicKeys = await plan('SELECT region, COUNT(*) FROM visits GROUP BY region');
    expect(budgetRequestFor({ mechanism: 'laplace', delta: 1e-7 }, grouped).partitionSelection).to.equal(true);
    expect(budgetRequestFor({ mechanism: 'laplace', delta: 1e-7 }, publicKeys).partitionSelection).to.equal(false);
  });
});
