/**
 * The Porter stemmer (Porter 1980, "An algorithm for suffix stripping") in the variant NLTK's
 * `PorterStemmer()` uses by default (`mode=NLTK_EXTENSIONS`), which METEOR's stem stage calls:
 * the original five steps plus NLTK's departures — a fixed list of irregular forms (`skies` → `sky`,
 * `dying` → `die`, `news` → `news` …), words of one or two letters left alone, `ies`/`ied` on a
 * four-letter word → `ie`, `ied` → `i` otherwise, `y` → `i` only after a consonant that is not the
 * word's first letter, `bli` → `ble`, `alli` → `al` before step 2 runs again, `fulli` → `ful`,
 * `logi` → `log`, and a two-letter vowel–consonant stem counting as "cvc". Lower-cases its input.
 *
 * Written for rewardkit: the npm `stemmer` package implements the original algorithm, whose
 * results differ from NLTK's on the words above, and the METEOR numbers must be NLTK's.
 * Linear in the word's length (no recursion on the `y` rule).
 */

const IRREGULAR: ReadonlyMap<string, string> = new Map([
  ['sky', 'sky'], ['skies', 'sky'], ['dying', 'die'], ['lying', 'lie'], ['tying', 'tie'], ['news', 'news'],
  ['innings', 'inning'], ['inning', 'inning'], ['outings', 'outing'], ['outing', 'outing'],
  ['cannings', 'canning'], ['canning', 'canning'], ['howe', 'howe'], ['proceed', 'proceed'], ['exceed', 'exceed'], ['succeed', 'succeed'],
]);

const VOWELS = new Set(['a', 'e', 'i', 'o', 'u']);

/** Consonant flags of `w`: `y` is a consonant at the start or after a vowel, a vowel after a consonant. */
function consonants(w: string): boolean[] {
  const out = new Array<boolean>(w.length);
  for (let i = 0; i < w.length; i++) {
    const c = w[i]!;
    if (VOWELS.has(c)) out[i] = false;
    else if (c === 'y') out[i] = i === 0 ? true : !out[i - 1]!;
    else out[i] = true;
  }
  return out;
}

/** Porter's m: the number of vowel-run → consonant-run transitions ("VC" pairs) in `stem`. */
function measure(stem: string): number {
  const c = consonants(stem);
  let m = 0;
  for (let i = 1; i < c.length; i++) if (!c[i - 1] && c[i]) m++;
  return m;
}

function hasVowel(stem: string): boolean {
  return consonants(stem).some((x) => !x);
}

function endsDoubleConsonant(w: string): boolean {
  return w.length >= 2 && w[w.length - 1] === w[w.length - 2] && consonants(w)[w.length - 1]!;
}

/** consonant–vowel–consonant at the end, the last not w, x or y; NLTK also counts a two-letter vowel–consonant word. */
function endsCvc(w: string): boolean {
  const c = consonants(w);
  const n = w.length;
  if (n >= 3 && c[n - 3] && !c[n - 2] && c[n - 1] && !'wxy'.includes(w[n - 1]!)) return true;
  return n === 2 && !c[0] && c[1]!;
}

/** A rule: [suffix, replacement, condition on the stem (the word without the suffix)]. */
type Rule = [string, string, ((stem: string) => boolean) | null];

/**
 * The first rule whose suffix ends `word` decides: its replacement when the condition holds, else
 * the word unchanged. The suffix `*d` stands for a double consonant (one letter of it is dropped).
 */
function applyRules(word: string, rules: readonly Rule[]): string {
  for (const [suffix, replacement, cond] of rules) {
    if (suffix === '*d' && endsDoubleConsonant(word)) {
      const stem = word.slice(0, -2);
      return cond === null || cond(stem) ? stem + replacement : word;
    }
    if (word.endsWith(suffix)) {
      const stem = word.slice(0, word.length - suffix.length);
      return cond === null || cond(stem) ? stem + replacement : word;
    }
  }
  return word;
}

const positive = (stem: string): boolean => measure(stem) > 0;
const above1 = (stem: string): boolean => measure(stem) > 1;

function step1a(w: string): string {
  if (w.endsWith('ies') && w.length === 4) return `${w.slice(0, -3)}ie`;
  return applyRules(w, [['sses', 'ss', null], ['ies', 'i', null], ['ss', 'ss', null], ['s', '', null]]);
}

function step1b(w: string): string {
  if (w.endsWith('ied')) return w.length === 4 ? `${w.slice(0, -3)}ie` : `${w.slice(0, -3)}i`;
  if (w.endsWith('eed')) {
    const stem = w.slice(0, -3);
    return measure(stem) > 0 ? `${stem}ee` : w;
  }
  let stem: string | null = null;
  for (const suffix of ['ed', 'ing']) {
    if (w.endsWith(suffix)) {
      const s = w.slice(0, w.length - suffix.length);
      if (hasVowel(s)) {
        stem = s;
        break;
      }
    }
  }
  if (stem === null) return w;
  const last = stem[stem.length - 1] ?? '';
  return applyRules(stem, [
    ['at', 'ate', null],
    ['bl', 'ble', null],
    ['iz', 'ize', null],
    ['*d', last, () => !'lsz'.includes(last)],
    ['', 'e', (x) => measure(x) === 1 && endsCvc(x)],
  ]);
}

function step1c(w: string): string {
  return applyRules(w, [['y', 'i', (stem) => stem.length > 1 && consonants(stem)[stem.length - 1]!]]);
}

function step2(w: string): string {
  if (w.endsWith('alli') && positive(w.slice(0, -4))) return step2(`${w.slice(0, -4)}al`);
  return applyRules(w, [
    ['ational', 'ate', positive],
    ['tional', 'tion', positive],
    ['enci', 'ence', positive],
    ['anci', 'ance', positive],
    ['izer', 'ize', positive],
    ['bli', 'ble', positive],
    ['alli', 'al', positive],
    ['entli', 'ent', positive],
    ['eli', 'e', positive],
    ['ousli', 'ous', positive],
    ['ization', 'ize', positive],
    ['ation', 'ate', positive],
    ['ator', 'ate', positive],
    ['alism', 'al', positive],
    ['iveness', 'ive', positive],
    ['fulness', 'ful', positive],
    ['ousness', 'ous', positive],
    ['aliti', 'al', positive],
    ['iviti', 'ive', positive],
    ['biliti', 'ble', positive],
    ['fulli', 'ful', positive],
    ['logi', 'log', () => positive(w.slice(0, -3))],
  ]);
}

function step3(w: string): string {
  return applyRules(w, [
    ['icate', 'ic', positive],
    ['ative', '', positive],
    ['alize', 'al', positive],
    ['iciti', 'ic', positive],
    ['ical', 'ic', positive],
    ['ful', '', positive],
    ['ness', '', positive],
  ]);
}

function step4(w: string): string {
  return applyRules(w, [
    ['al', '', above1],
    ['ance', '', above1],
    ['ence', '', above1],
    ['er', '', above1],
    ['ic', '', above1],
    ['able', '', above1],
    ['ible', '', above1],
    ['ant', '', above1],
    ['ement', '', above1],
    ['ment', '', above1],
    ['ent', '', above1],
    ['ion', '', (stem) => above1(stem) && (stem.endsWith('s') || stem.endsWith('t'))],
    ['ou', '', above1],
    ['ism', '', above1],
    ['ate', '', above1],
    ['iti', '', above1],
    ['ous', '', above1],
    ['ive', '', above1],
    ['ize', '', above1],
  ]);
}

function step5a(w: string): string {
  if (!w.endsWith('e')) return w;
  const stem = w.slice(0, -1);
  const m = measure(stem);
  if (m > 1) return stem;
  if (m === 1 && !endsCvc(stem)) return stem;
  return w;
}

function step5b(w: string): string {
  return applyRules(w, [['ll', 'l', () => measure(w.slice(0, -1)) > 1]]);
}

/**
 * The stem of `word` as NLTK's `PorterStemmer().stem(word)` gives it (lower-cased).
 *
 * @example
 * porterStem('running') // → 'run'
 * porterStem('Generalizations') // → 'gener'
 * porterStem('dying') // → 'die'
 */
export function porterStem(word: string): string {
  const lower = word.toLowerCase();
  // NLTK looks the irregular forms up with the word as given (not lower-cased).
  const irregular = IRREGULAR.get(word);
  if (irregular !== undefined) return irregular;
  if (word.length <= 2) return lower;
  let s = step1a(lower);
  s = step1b(s);
  s = step1c(s);
  s = step2(s);
  s = step3(s);
  s = step4(s);
  s = step5a(s);
  return step5b(s);
}
