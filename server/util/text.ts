// Characters that can reorder, hide or fake text in other people's displays: C0/C1 controls, bidi
// marks, embeddings, overrides and isolates (U+061C, U+200E/F, U+202A-E, U+2066-9), line and
// paragraph separators (U+2028/9), and invisible spaces (U+200B, U+2060, U+FEFF).
// eslint-disable-next-line no-control-regex
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;
// Zero-width (non-)joiners: needed inside Persian and Indic words and emoji sequences, so chat keeps
// them; a name has no use for them and they make look-alikes ("Teacher" vs "Tea\u200dcher").
const joiners = /[\u200c\u200d]/g;

/** Chat text: keeps tabs, newlines and joiners, drops everything in `unsafe`. */
export function cleanText(raw: string): string {
  return raw.replace(unsafe, '').trim();
}

/** A display name: one line, no invisible characters, runs of white space as one space. */
export function cleanName(raw: string): string {
  return cleanText(raw).replace(joiners, '').replace(/\s+/g, ' ');
}
