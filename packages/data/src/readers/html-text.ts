// Main-text extraction from HTML: drop boilerplate elements and link-heavy blocks, keep paragraphs, headings and list items.

/** Options for {@link htmlToText}. */
export interface HtmlToTextOptions {
  /** Restrict to `<article>`/`<main>` when the page has one. Default true. */
  preferMain?: boolean;
  /** Drop a block whose link text is more than this fraction of its text (navigation). Default 0.5. */
  maxLinkDensity?: number;
  /** Only blocks with fewer words than this can be dropped for link density. Default 20. */
  linkBlockMaxWords?: number;
}

/** Elements whose whole content is boilerplate or not text. */
const SKIP = new Set(['script', 'style', 'noscript', 'nav', 'header', 'footer', 'aside', 'form', 'svg', 'template', 'iframe', 'button', 'select', 'textarea', 'head', 'menu', 'canvas', 'object']);
/** Elements that start and end a block of text. */
const BLOCK = new Set(['p', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'li', 'ul', 'ol', 'dl', 'dt', 'dd', 'br', 'hr', 'tr', 'td', 'th', 'table', 'section', 'article', 'main', 'blockquote', 'pre', 'figure', 'figcaption', 'body', 'html', 'title', 'address', 'center', 'caption']);
/** Void elements (no closing tag). */
const VOID = new Set(['br', 'hr', 'img', 'input', 'meta', 'link', 'area', 'base', 'col', 'embed', 'source', 'track', 'wbr', 'param']);

const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—', hellip: '…', copy: '©', reg: '®',
  trade: '™', laquo: '«', raquo: '»', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', bull: '•', middot: '·', deg: '°',
  eacute: 'é', egrave: 'è', ecirc: 'ê', aacute: 'á', agrave: 'à', acirc: 'â', iacute: 'í', oacute: 'ó', uacute: 'ú',
  ntilde: 'ñ', ccedil: 'ç', uuml: 'ü', ouml: 'ö', auml: 'ä', szlig: 'ß', euro: '€', pound: '£', yen: '¥', cent: '¢',
  sect: '§', para: '¶', times: '×', divide: '÷', frac12: '½', shy: '', zwnj: '', zwj: '', ensp: ' ', emsp: ' ', thinsp: ' ',
};

/** Decodes HTML character references: named (common set), decimal and hex. Unknown names are left as written. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z][a-z0-9]*);?/gi, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\uFFFD';
      return String.fromCodePoint(code);
    }
    const named = NAMED[ref] ?? NAMED[ref.toLowerCase()];
    return named === undefined ? whole : named;
  });
}

/** Picks the inner HTML of the first `<article>` or `<main>` element, if any. */
function mainRegion(html: string): string | undefined {
  for (const tag of ['article', 'main']) {
    const open = new RegExp(`<${tag}\\b[^>]*>`, 'i').exec(html);
    if (!open) continue;
    const closeAt = html.toLowerCase().lastIndexOf(`</${tag}>`);
    if (closeAt > open.index) return html.slice(open.index + open[0].length, closeAt);
  }
  return undefined;
}

/**
 * Extracts readable main text from an HTML page: removes comments and boilerplate elements
 * (script, style, nav, header, footer, aside, forms...), keeps text blocks (paragraphs, headings,
 * list items, table cells) one per line, drops short link-heavy blocks, decodes entities.
 *
 * @example
 * htmlToText('<nav>Home</nav><p>Hello &amp; welcome.</p>') // "Hello & welcome."
 */
export function htmlToText(html: string, options: HtmlToTextOptions = {}): string {
  const maxLinkDensity = options.maxLinkDensity ?? 0.5;
  const linkBlockMaxWords = options.linkBlockMaxWords ?? 20;
  let source = html.replace(/<!--[\s\S]*?-->/g, ' ').replace(/<!\[CDATA\[[\s\S]*?\]\]>/g, ' ');
  if (options.preferMain ?? true) source = mainRegion(source) ?? source;

  const blocks: string[] = [];
  let text = '';
  let linkChars = 0;
  let skipDepth = 0;
  let skipTag = '';
  let linkDepth = 0;
  let pre = 0;
  const endBlock = (): void => {
    const clean = text.replace(/[ \t\f\v\u00a0]+/g, ' ').replace(/ *\n */g, '\n').trim();
    if (clean !== '') {
      const words = clean.split(/\s+/).length;
      const linkHeavy = linkChars / clean.length > maxLinkDensity && words < linkBlockMaxWords;
      if (!linkHeavy) blocks.push(clean);
    }
    text = '';
    linkChars = 0;
  };

  const tagRe = /<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)\b((?:[^>"']|"[^"]*"|'[^']*')*)>|<![^>]*>|<\?[^>]*>/g;
  let last = 0;
  for (let match = tagRe.exec(source); match !== null; match = tagRe.exec(source)) {
    const between = source.slice(last, match.index);
    last = tagRe.lastIndex;
    if (skipDepth === 0 && between !== '') {
      const piece = decodeEntities(pre > 0 ? between : between.replace(/\s+/g, ' '));
      text += piece;
      if (linkDepth > 0) linkChars += piece.trim().length;
    }
    const name = match[2]?.toLowerCase();
    if (name === undefined) continue; // doctype, processing instruction
    const closing = match[1] === '/';
    const selfClosing = /\/\s*$/.test(match[3] ?? '');
    if (skipDepth > 0) {
      if (name === skipTag) skipDepth += closing ? -1 : selfClosing ? 0 : 1;
      continue;
    }
    if (SKIP.has(name) && !closing && !selfClosing && !VOID.has(name)) {
      skipDepth = 1;
      skipTag = name;
      continue;
    }
    if (name === 'a' && !selfClosing) linkDepth = Math.max(0, linkDepth + (closing ? -1 : 1));
    if (name === 'pre') pre = Math.max(0, pre + (closing ? -1 : 1));
    if (BLOCK.has(name)) endBlock();
  }
  if (skipDepth === 0) text += decodeEntities(source.slice(last).replace(/\s+/g, ' '));
  endBlock();
  return blocks.join('\n');
}
