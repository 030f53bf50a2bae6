// Readers on every format: plain/gz/zst JSONL, txt, Parquet, HTML, WARC/WET, and bad input that must not stop a run.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { readDocuments, type ReadItem } from '../index.js';

const dir = mkdtempSync(join(tmpdir(), 'lmkit-readers-'));
const file = (name: string, data: string | Uint8Array): string => {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
};
const collect = async (it: AsyncIterable<ReadItem>): Promise<ReadItem[]> => {
  const out: ReadItem[] = [];
  for await (const item of it) out.push(item);
  return out;
};
const texts = (items: ReadItem[]): string[] => items.flatMap((i) => (i.kind === 'doc' ? [i.doc.text] : []));

// A zstd frame of `{"text":"zstd one"}\n{"text":"zstd two"}\n`, made with `zstd -19` (fzstd only decompresses).
const ZST_HEX = '28b52ffd0468050100d07b2274657874223a227a737464206f6e65227d0a74776f227d0a01004e9e4ca0dd473a';

describe('JSONL', () => {
  const lines = ['{"id":"a","text":"alpha","lang":"en"}', '{"text":"beta"}', '', '{"text":"gamma"}'].join('\n') + '\n';

  it('reads plain JSONL with ids, metadata and positions', async () => {
    const items = await collect(readDocuments(file('a.jsonl', lines)));
    expect(texts(items)).toEqual(['alpha', 'beta', 'gamma']);
    const first = items[0]!;
    expect(first.kind === 'doc' && first.doc).toMatchObject({ id: 'a', meta: { lang: 'en', source: 'a.jsonl' } });
    expect(items.map((i) => i.pos)).toEqual([0, lines.indexOf('{"text":"beta"}'), lines.indexOf('{"text":"gamma"}')]);
    expect(items[2]!.location).toBe('a.jsonl:4');
  });

  it('reads .gz and .zst the same as plain', async () => {
    expect(texts(await collect(readDocuments(file('b.jsonl.gz', gzipSync(lines)))))).toEqual(['alpha', 'beta', 'gamma']);
    expect(texts(await collect(readDocuments(file('c.jsonl.zst', Buffer.from(ZST_HEX, 'hex')))))).toEqual(['zstd one', 'zstd two']);
  });

  it('uses the chosen text field', async () => {
    const items = await collect(readDocuments(file('d.jsonl', '{"content":"x","text":"y"}\n'), { textField: 'content' }));
    expect(items[0]!.kind === 'doc' && items[0]!.doc).toMatchObject({ text: 'x', meta: { text: 'y' } });
  });

  it('reports malformed JSON, invalid UTF-8, a missing field and a non-object with file:line, and goes on', async () => {
    const bad = Buffer.concat([
      Buffer.from('{"text":"ok 1"}\n{"text": oops}\n'),
      Buffer.from([0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]),
      Buffer.from('{"body":"no text"}\n[1,2]\n{"text":"ok 2"}\n'),
    ]);
    const items = await collect(readDocuments(file('bad.jsonl', bad)));
    expect(texts(items)).toEqual(['ok 1', 'ok 2']);
    const problems = items.filter((i) => i.kind === 'bad').map((i) => [i.kind === 'bad' && i.reason, i.location]);
    expect(problems).toEqual([
      ['bad_json', 'bad.jsonl:2'],
      ['invalid_utf8', 'bad.jsonl:3'],
      ['missing_text_field', 'bad.jsonl:4'],
      ['not_an_object', 'bad.jsonl:5'],
    ]);
  });

  it('reports a truncated .zst and a truncated .gz as one bad record after the readable ones', async () => {
    const zst = Buffer.from(ZST_HEX, 'hex');
    const cut = await collect(readDocuments(file('cut.jsonl.zst', zst.subarray(0, zst.length - 6))));
    expect(cut.at(-1)).toMatchObject({ kind: 'bad', reason: 'truncated_input' });
    const gz = gzipSync(Buffer.from(Array.from({ length: 2000 }, (_, i) => `{"text":"line ${i}"}`).join('\n')));
    const items = await collect(readDocuments(file('cut.jsonl.gz', gz.subarray(0, gz.length >> 1))));
    expect(items.at(-1)).toMatchObject({ kind: 'bad', reason: 'truncated_input' });
    expect(items.filter((i) => i.kind === 'doc').length).toBeGreaterThan(100);
  });

  it('resumes after a given record', async () => {
    const path = file('r.jsonl', lines);
    const all = await collect(readDocuments(path));
    const rest = await collect(readDocuments(path, { resumeFrom: all[0]!.next }));
    expect(texts(rest)).toEqual(['beta', 'gamma']);
    const gz = file('r.jsonl.gz', gzipSync(lines));
    const restGz = await collect(readDocuments(gz, { resumeFrom: (await collect(readDocuments(gz)))[1]!.next }));
    expect(texts(restGz)).toEqual(['gamma']);
  });
});

describe('text', () => {
  it('reads a file as one document or as paragraphs', async () => {
    const path = file('t.txt', 'First para\nline two.\n\n\nSecond para.\n  \nThird.');
    expect(texts(await collect(readDocuments(path)))).toEqual(['First para\nline two.\n\n\nSecond para.\n  \nThird.']);
    const paras = await collect(readDocuments(path, { txtMode: 'paragraph' }));
    expect(texts(paras)).toEqual(['First para\nline two.', 'Second para.', 'Third.']);
    expect(paras.map((p) => p.location)).toEqual(['t.txt:1', 't.txt:5', 't.txt:7']);
    expect(texts(await collect(readDocuments(path, { txtMode: 'paragraph', resumeFrom: 2 })))).toEqual(['Third.']);
  });
});

describe('Parquet', () => {
  it('reads rows across row groups with a chosen text field', async () => {
    const n = 25;
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: Array.from({ length: n }, (_, i) => `p${i}`), type: 'STRING' },
        { name: 'content', data: Array.from({ length: n }, (_, i) => `row number ${i}`), type: 'STRING' },
        { name: 'score', data: Array.from({ length: n }, (_, i) => i / 2), type: 'DOUBLE' },
      ],
      rowGroupSize: 10,
    });
    const path = file('p.parquet', new Uint8Array(buffer));
    const items = await collect(readDocuments(path, { textField: 'content' }));
    expect(texts(items)).toEqual(Array.from({ length: n }, (_, i) => `row number ${i}`));
    expect(items[13]!.kind === 'doc' && items[13]!.doc).toMatchObject({ id: 'p13', meta: { score: 6.5 } });
    const rest = await collect(readDocuments(path, { textField: 'content', resumeFrom: 12 }));
    expect(rest.map((i) => i.pos)).toEqual(Array.from({ length: 13 }, (_, i) => 12 + i));
    const missing = await collect(readDocuments(path));
    expect(missing.every((i) => i.kind === 'bad' && i.reason === 'missing_text_field')).toBe(true);
  });
});

describe('HTML and WARC', () => {
  const page = `<!doctype html><html><head><title>A &amp; B</title><style>p{color:red}</style><script>var x = "<p>no</p>";</script></head>
<body><header><h1>Site name</h1></header><nav><ul><li><a href="/">Home</a></li><li><a href="/x">About</a></li></ul></nav>
<main><h2>The heading</h2><p>First paragraph with <b>bold</b> text &mdash; and an entity &#233;&#x20AC;.</p>
<ul><li>Item one</li><li>Item two</li></ul><p><a href="/a">Read more</a></p><!-- comment --><p>Last   paragraph.</p></main>
<aside>Related links</aside><footer>Copyright 2024</footer></body></html>`;

  it('extracts main text from an HTML file', async () => {
    const items = await collect(readDocuments(file('page.html', page)));
    const doc = items[0]!.kind === 'doc' ? items[0]!.doc : undefined;
    expect(doc?.text).toBe('The heading\nFirst paragraph with bold text — and an entity é€.\nItem one\nItem two\nLast paragraph.');
    expect(doc?.meta.title).toBe('A & B');
  });

  it('decodes a page in its declared charset', async () => {
    const latin1 = Buffer.from('<html><head><meta charset="windows-1252"></head><body><p>Caf\xe9 cr\xe8me \x80 5</p></body></html>', 'latin1');
    const items = await collect(readDocuments(file('latin.html', latin1)));
    expect(texts(items)).toEqual(['Café crème € 5']);
    const broken = await collect(readDocuments(file('broken.html', Buffer.from([0x3c, 0x70, 0x3e, 0xff, 0x3c, 0x2f, 0x70, 0x3e]))));
    expect(broken[0]).toMatchObject({ kind: 'bad', reason: 'invalid_utf8' });
  });

  const record = (headers: Record<string, string>, body: string): Buffer => {
    const payload = Buffer.from(body);
    const head = ['WARC/1.0', ...Object.entries({ ...headers, 'Content-Length': String(payload.length) }).map(([k, v]) => `${k}: ${v}`)].join('\r\n');
    return Buffer.concat([Buffer.from(head + '\r\n\r\n'), payload, Buffer.from('\r\n\r\n')]);
  };
  const records = [
    record({ 'WARC-Type': 'warcinfo', 'WARC-Record-ID': '<urn:uuid:0>' }, 'software: test\r\n'),
    record({ 'WARC-Type': 'conversion', 'WARC-Record-ID': '<urn:uuid:1>', 'WARC-Target-URI': 'https://a.example/' }, 'Plain text of page one.\nSecond line.'),
    record({ 'WARC-Type': 'request', 'WARC-Record-ID': '<urn:uuid:2>' }, 'GET / HTTP/1.1\r\n\r\n'),
    record({ 'WARC-Type': 'response', 'WARC-Record-ID': '<urn:uuid:3>', 'WARC-Target-URI': 'https://b.example/' }, `HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n${page}`),
  ];

  it('reads WET conversion records and WARC HTML responses, plain and gzip-per-record', async () => {
    const expected = ['Plain text of page one.\nSecond line.', 'The heading\nFirst paragraph with bold text — and an entity é€.\nItem one\nItem two\nLast paragraph.'];
    const plain = await collect(readDocuments(file('cc.warc', Buffer.concat(records))));
    expect(texts(plain)).toEqual(expected);
    expect(plain[0]!.kind === 'doc' && plain[0]!.doc).toMatchObject({ id: 'urn:uuid:1', meta: { url: 'https://a.example/' } });
    const perRecord = await collect(readDocuments(file('cc.warc.gz', Buffer.concat(records.map((r) => gzipSync(r))))));
    expect(texts(perRecord)).toEqual(expected);
    const resumed = await collect(readDocuments(file('cc2.wet', Buffer.concat(records)), { resumeFrom: plain[0]!.next }));
    expect(texts(resumed)).toEqual([expected[1]]);
  });

  it('reports a cut-off WARC record', async () => {
    const all = Buffer.concat(records);
    const items = await collect(readDocuments(file('cut.warc', all.subarray(0, all.length - 200))));
    expect(texts(items)).toEqual(['Plain text of page one.\nSecond line.']);
    expect(items.at(-1)).toMatchObject({ kind: 'bad', reason: 'truncated_input' });
  });
});
