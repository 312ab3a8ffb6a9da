import { expect } from 'chai';
import { exactNumber, jsonCell } from '../../src/access/raw-query.ts';

describe('raw cells as JSON: numbers when exact', () => {
  it('turns numeric text into a number only when the number reads back as the same decimal', () => {
    expect(exactNumber('212.30')).to.equal(212.3);
    expect(exactNumber('-0.50')).to.equal(-0.5);
    expect(exactNumber('0')).to.equal(0);
    expect(exactNumber('5000.00')).to.equal(5000);
    // Digits a double cannot hold stay text, exactly as the warehouse sent them.
    expect(exactNumber('0.1000000000000000055511151231257827')).to.equal('0.1000000000000000055511151231257827');
    expect(exactNumber('123456789012345678901')).to.equal('123456789012345678901');
    expect(exactNumber('9007199254740993')).to.equal('9007199254740993');
    expect(exactNumber('NaN')).to.equal('NaN');
  });

  it('converts only numeric columns: text that looks like a number stays text', () => {
    expect(jsonCell('00123', false)).to.equal('00123');
    expect(jsonCell('12.50', true)).to.equal(12.5);
    expect(jsonCell(9007199254740993n, false)).to.equal('9007199254740993');
    expect(jsonCell(42n, false)).to.equal(42);
  });
});
