/**
 * Differential check of the NLTK-based metrics against NLTK itself, when a Python with NLTK is on
 * this machine (`python3`, or Debian's `/usr/bin/python3` with the `python3-nltk` package); skipped
 * with one printed line otherwise. No network and no NLTK data: Punkt is compared untrained (with an
 * empty abbreviation list on both sides), METEOR with a WordNet that knows no synonyms (the stage
 * rewardkit omits), the Treebank tokenizer on single sentences.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { nltkSentenceBleu } from './nltk_bleu.js';
import { sentenceGleu } from './gleu.js';
import { meteorScore } from './meteor.js';
import { porterStem } from './porter.js';
import { punktSentences, treebankTokens } from './nltk_tokens.js';

function findPython(): string | null {
  for (const py of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(py, ['-c', 'import nltk'], { stdio: 'ignore', timeout: 30_000 });
    if (r.status === 0) return py;
  }
  return null;
}

const PY = `
import sys, json
from nltk.translate.bleu_score import sentence_bleu, SmoothingFunction
from nltk.translate.gleu_score import sentence_gleu
from nltk.translate import meteor_score as ms
from nltk.tokenize.destructive import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer
from nltk.stem.porter import PorterStemmer
class NoSynonyms:
    def synsets(self, word): return []
stem, tok, punkt = PorterStemmer(), NLTKWordTokenizer(), PunktSentenceTokenizer()
out = []
for c in json.load(sys.stdin):
    k = c['kind']
    if k == 'bleu': out.append(sentence_bleu(c['refs'], c['hyp'], smoothing_function=SmoothingFunction().method4))
    elif k == 'gleu': out.append(sentence_gleu(c['refs'], c['hyp']))
    elif k == 'meteor': out.append(ms.meteor_score(c['refs'], c['hyp'], wordnet=NoSynonyms(), alpha=0.9, beta=3.0, gamma=0.5))
    elif k == 'tok': out.append(tok.tokenize(c['text']))
    elif k == 'punkt': out.append(punkt.tokenize(c['text']))
    elif k == 'stem': out.append([stem.stem(w) for w in c['words']])
print(json.dumps(out))
`;

/** A deterministic pseudo-random source (the cases are the same on every run). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
}

const VOCAB = ['the', 'The', 'cat', 'cats', 'sat', 'sitting', 'on', 'mat', 'mats', 'a', 'dog', 'running', 'runs', 'ran', 'is', 'was', 'happily', 'happy'];
const FRAGMENTS = [
  'the', 'cat', "don't", "I'm", 'cannot', 'gonna', '"quoted"', "'single'", '(paren)', '[x]', '$3.88', '3,000', '10:30', 'e.g.', 'Mr.', 'U.S.', 'J.', '3.',
  'end.', 'end.)', 'end."', 'wait...', 'what?!', 'no!', 'a--b', 'x;y', '@me', '#tag', '50%', 'a&b', '*', '<b>', '``tex\'\'', 'more\'n', "'tis", 'Then', 'then', ',', ':', '.', '?',
];
const STEM_WORDS = [
  'caresses', 'ponies', 'ties', 'caress', 'cats', 'feed', 'agreed', 'plastered', 'bled', 'motoring', 'sing', 'conflated', 'troubled', 'sized', 'hopping', 'tanned',
  'falling', 'hissing', 'fizzed', 'failing', 'filing', 'happy', 'sky', 'relational', 'conditional', 'rational', 'valenci', 'hesitanci', 'digitizer', 'conformabli',
  'radicalli', 'differentli', 'vileli', 'analogousli', 'vietnamization', 'predication', 'operator', 'feudalism', 'decisiveness', 'hopefulness', 'callousness',
  'formaliti', 'sensitiviti', 'sensibiliti', 'triplicate', 'formative', 'formalize', 'electriciti', 'electrical', 'hopeful', 'goodness', 'revival', 'allowance',
  'inference', 'airliner', 'gyroscopic', 'adjustable', 'defensible', 'irritant', 'replacement', 'adjustment', 'dependent', 'adoption', 'homologou', 'communism',
  'activate', 'angulariti', 'homologous', 'effective', 'bowdlerize', 'probate', 'rate', 'cease', 'controll', 'roll', 'dying', 'lying', 'skies', 'news', 'innings',
  'spied', 'died', 'fully', 'analogies', 'generalizations', 'yyyyy', 'syzygy', 'bye', 'ay', 'eyed', 'ied', 'ies',
];

const python = findPython();
if (python === null) console.log('nltk_reference.test.ts: skipped, no python3 with NLTK here (apt-get install python3-nltk runs it)');

describe.skipIf(python === null)('the NLTK metrics equal NLTK (python3 with NLTK found on this machine)', () => {
  const rnd = lcg(20_261_207);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const sentence = (n: number) => Array.from({ length: n }, () => pick(VOCAB));
  const text = (n: number) => Array.from({ length: n }, () => pick(FRAGMENTS)).join(pick([' ', ' ', ' ', '  ', '\n', ' \n\n']));
  type Case = { kind: string; refs?: string[][]; hyp?: string[]; text?: string; words?: string[] };
  const cases: Case[] = [];
  for (let i = 0; i < 300; i++) {
    const refs = Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => sentence(1 + Math.floor(rnd() * 12)));
    cases.push({ kind: ['bleu', 'gleu', 'meteor'][i % 3]!, refs, hyp: sentence(Math.floor(rnd() * 13)) });
  }
  for (let i = 0; i < 300; i++) cases.push({ kind: 'tok', text: text(1 + Math.floor(rnd() * 12)) });
  for (let i = 0; i < 300; i++) cases.push({ kind: 'punkt', text: text(1 + Math.floor(rnd() * 16)) });
  cases.push({ kind: 'stem', words: STEM_WORDS });

  it('BLEU (method 4), GLEU, METEOR without synonyms: equal to 1e-12; Treebank tokens, untrained Punkt sentences and Porter stems: identical', () => {
    const ref = JSON.parse(execFileSync(python!, ['-c', PY], { input: JSON.stringify(cases), maxBuffer: 1 << 26, timeout: 120_000 }).toString()) as unknown[];
    const opts = { alpha: 0.9, beta: 3, gamma: 0.5, stem: true };
    cases.forEach((c, i) => {
      const where = JSON.stringify(c);
      if (c.kind === 'bleu') expect(nltkSentenceBleu(c.refs!, c.hyp!).score, where).toBeCloseTo(ref[i] as number, 12);
      else if (c.kind === 'gleu') expect(sentenceGleu(c.refs!, c.hyp!).score, where).toBeCloseTo(ref[i] as number, 12);
      else if (c.kind === 'meteor') expect(Math.max(...c.refs!.map((r) => meteorScore(r, c.hyp!, opts).score)), where).toBeCloseTo(ref[i] as number, 12);
      else if (c.kind === 'tok') expect(treebankTokens(c.text!), where).toEqual(ref[i]);
      else if (c.kind === 'punkt') expect(punktSentences(c.text!, new Set()), where).toEqual(ref[i]);
      else expect(c.words!.map(porterStem)).toEqual(ref[i]);
    });
  });
});
