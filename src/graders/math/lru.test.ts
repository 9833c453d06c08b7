import { describe, expect, it } from 'vitest';
import { Deadline, MathTimeout, NO_DEADLINE } from './deadline.js';
import { Lru } from './lru.js';

describe('Lru', () => {
  it('never holds more than its capacity and evicts the least recently used', () => {
    const c = new Lru<string, number>(4);
    for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) c.set(k, i);
    c.get('a'); // more than half full: a becomes the most recent
    c.set('e', 4);
    expect(c.size).toBe(4);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(0);
    for (let i = 0; i < 100; i++) c.set(`k${i}`, i);
    expect(c.size).toBe(4);
    expect(c.get('k99')).toBe(99);
    expect(c.get('k95')).toBeUndefined();
  });
  it('stores nothing with capacity 0', () => {
    const c = new Lru<string, number>(0);
    c.set('a', 1);
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
  });
});

describe('Deadline', () => {
  it('throws MathTimeout once spent, never without a limit', () => {
    const d = new Deadline(0);
    expect(() => {
      for (let i = 0; i < 64; i++) d.check();
    }).toThrow(MathTimeout);
    expect(d.remaining()).toBe(0);
    for (let i = 0; i < 1000; i++) NO_DEADLINE.check();
    expect(NO_DEADLINE.remaining()).toBe(Number.POSITIVE_INFINITY);
  });
});
