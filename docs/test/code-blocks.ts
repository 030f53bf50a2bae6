// Extracts the runnable ```ts blocks of a Markdown guide, with the line each one starts on.

/** One fenced code block of a guide. */
export interface CodeBlock {
  /** 1-based position among the guide's ```ts blocks (runnable or not). */
  index: number;
  /** 1-based line of the opening fence in the Markdown file. */
  line: number;
  /** The info string after the fence, e.g. `ts` or `ts no-run`. */
  info: string;
  /** The code between the fences. */
  code: string;
  /** False for ```ts no-run blocks, which show API shapes the test does not execute. */
  runnable: boolean;
}

/**
 * Returns every ```ts / ```typescript block of `markdown`; blocks whose info string contains
 * `no-run` are returned with `runnable: false`. An unclosed fence throws, naming its line.
 */
export function extractTsBlocks(markdown: string, file = 'guide'): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  let open: { line: number; info: string; fence: string; body: string[] } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    if (open) {
      if (text.trim() === open.fence) {
        const words = open.info.split(/\s+/);
        if (words[0] === 'ts' || words[0] === 'typescript') {
          blocks.push({
            index: blocks.length + 1,
            line: open.line,
            info: open.info,
            code: open.body.join('\n'),
            runnable: !words.includes('no-run'),
          });
        }
        open = undefined;
      } else {
        open.body.push(text);
      }
      continue;
    }
    const fence = /^(\s*)(`{3,}|~{3,})\s*(.*)$/.exec(text);
    if (fence) open = { line: i + 1, info: fence[3]!.trim(), fence: fence[2]!, body: [] };
  }
  if (open) throw new Error(`${file}:${open.line}: code fence \`${open.fence}${open.info}\` is never closed`);
  return blocks;
}
