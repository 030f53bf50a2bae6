// Extracts the ```ts blocks of a Markdown guide, with the line each one starts on and whether it runs.

/**
 * One fenced code block of a guide.
 * @typedef {object} CodeBlock
 * @property {number} index 1-based position among the guide's ```ts blocks (runnable or not).
 * @property {number} line 1-based line of the opening fence in the Markdown file.
 * @property {string} info The info string after the fence, e.g. `ts` or `ts no-run`.
 * @property {string} code The code between the fences.
 * @property {boolean} runnable False for ```ts no-run blocks, which show API shapes without executing them.
 */

/**
 * Returns every ```ts / ```typescript block of `markdown`; blocks whose info string contains
 * `no-run` are returned with `runnable: false`. An unclosed fence throws, naming its line.
 * @param {string} markdown
 * @param {string} [file] Name used in error messages.
 * @returns {CodeBlock[]}
 */
export function extractTsBlocks(markdown, file = 'guide') {
  const lines = markdown.split('\n');
  /** @type {CodeBlock[]} */
  const blocks = [];
  /** @type {{ line: number, info: string, fence: string, body: string[] } | undefined} */
  let open;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i];
    if (open) {
      if (text.trim() === open.fence) {
        const words = open.info.split(/\s+/);
        if (words[0] === 'ts' || words[0] === 'typescript') {
          blocks.push({ index: blocks.length + 1, line: open.line, info: open.info, code: open.body.join('\n'), runnable: !words.includes('no-run') });
        }
        open = undefined;
      } else {
        open.body.push(text);
      }
      continue;
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(text);
    if (fence) open = { line: i + 1, info: fence[3].trim(), fence: fence[2], body: [] };
  }
  if (open) throw new Error(`${file}:${open.line}: code fence \`${open.fence}${open.info}\` is never closed`);
  return blocks;
}
