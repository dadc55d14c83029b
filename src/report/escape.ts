/**
 * Escaping for text we did not write (model and node names, paths, reasons, error messages) before
 * it goes into Markdown tables or HTML. Everything that Markdown or HTML would interpret becomes an
 * entity, `@` too so a node called `@org/team` cannot ping anyone, and newlines become spaces so a
 * value cannot break out of its table row.
 */
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '|': '&#124;',
  '\\': '&#92;',
  '`': '&#96;',
  '*': '&#42;',
  _: '&#95;',
  '[': '&#91;',
  ']': '&#93;',
  '~': '&#126;',
  '#': '&#35;',
  '@': '&#64;',
  '!': '&#33;',
};

export function escapeText(text: string, maxLength = 300): string {
  // Other control characters are dropped: they have no business in a comment.
  const flat = [...text.replace(/[\r\n\t]+/g, ' ')].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f).join('');
  const cut = flat.length > maxLength ? flat.slice(0, maxLength - 1) + '…' : flat;
  return cut.replace(/[&<>"'|\\`*_[\]~#@!]/g, (c) => ENTITIES[c]);
}
