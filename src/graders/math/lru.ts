/** A bounded least-recently-used map (Map keeps insertion order; a hit is re-inserted at the end). */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();

  constructor(readonly capacity: number) {}

  /**
   * The value for `k`, marking it most recently used. While the cache is less than half full
   * nothing can be evicted soon, so the reordering (a delete and an insert) is skipped.
   */
  get(k: K): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined && this.map.size * 2 > this.capacity) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }

  /** Stores `v`, evicting the least recently used entry when full. */
  set(k: K, v: V): void {
    if (this.capacity <= 0) return;
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value as K);
  }

  get size(): number {
    return this.map.size;
  }
}
