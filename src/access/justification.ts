/**
 * "A justification that says something" (issue 6): at least 20 characters and 4 words, not one
 * character repeated. A word is a run of non-space characters holding a letter or a digit; and
 * the text must use at least 5 distinct letters or digits, which turns away "aaaa aaaa …",
 * "test test test test" and keyboard mashing of one key, while any real sentence passes.
 * Returns the reason it is refused, or undefined when it is accepted.
 */
export const MIN_JUSTIFICATION_CHARS = 20;
export const MIN_JUSTIFICATION_WORDS = 4;
export const MIN_DISTINCT_CHARACTERS = 5;
export const MAX_JUSTIFICATION_CHARS = 2000;

export function justificationProblem(text: string): string | undefined {
  const t = text.trim();
  if (t.length < MIN_JUSTIFICATION_CHARS) return `must be at least ${MIN_JUSTIFICATION_CHARS} characters long`;
  if (t.length > MAX_JUSTIFICATION_CHARS) return `must be at most ${MAX_JUSTIFICATION_CHARS} characters long`;
  const words = t.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length < MIN_JUSTIFICATION_WORDS) return `must have at least ${MIN_JUSTIFICATION_WORDS} words`;
  const distinct = new Set([...t.toLowerCase()].filter((ch) => /[\p{L}\p{N}]/u.test(ch)));
  if (distinct.size < MIN_DISTINCT_CHARACTERS) return 'must say something (not one character or word repeated)';
  return undefined;
}
