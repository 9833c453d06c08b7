import { describe, expect, it } from 'vitest';
import { porterStem } from './porter.js';

describe('porterStem (NLTK PorterStemmer, NLTK_EXTENSIONS mode)', () => {
  it("gives NLTK's stems, including its departures from the original algorithm", () => {
    // Values printed by NLTK 3.8's PorterStemmer().stem.
    const expected: Record<string, string> = {
      running: 'run', generalizations: 'gener', caresses: 'caress', ponies: 'poni', relational: 'relat', conditional: 'condit',
      hopping: 'hop', hoping: 'hope', agreed: 'agre', feed: 'feed', happy: 'happi', adjustment: 'adjust', controlling: 'control',
      rolling: 'roll', formalize: 'formal', hopefulness: 'hope', electrically: 'electr', analogies: 'analog',
      // NLTK extensions: irregular forms, four-letter -ies/-ied, -ied → -i, fulli.
      dying: 'die', skies: 'sky', sky: 'sky', news: 'news', innings: 'inning', ties: 'tie', cried: 'cri', spied: 'spi', fully: 'fulli',
    };
    for (const [w, s] of Object.entries(expected)) expect(porterStem(w), w).toBe(s);
  });

  it('lower-cases, leaves words of one or two letters alone, and is linear on long runs of y', () => {
    expect(porterStem('Running')).toBe('run');
    expect(porterStem('is')).toBe('is');
    expect(porterStem('y'.repeat(100_000)).length).toBeGreaterThan(0);
  });
});
