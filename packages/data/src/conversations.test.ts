import { describe, expect, it } from 'vitest';
import { buildDialogues, dialogueToDocument, type Message } from './conversations.js';

const m = (id: string, parentId: string | null, text = id, role?: string): Message => ({ id, parentId, text, ...(role ? { role } : {}) });
const ids = (ds: Message[][]): string[] => ds.map((d) => d.map((x) => x.id).join('>'));

describe('buildDialogues', () => {
  it('yields every root-to-leaf path in input order', () => {
    const msgs = [m('a', null), m('b', 'a'), m('c', 'a'), m('d', 'b'), m('e', 'b'), m('x', null)];
    expect(ids([...buildDialogues(msgs)])).toEqual(['a>b>d', 'a>b>e', 'a>c', 'x']);
  });

  it('accepts children listed before their parents', () => {
    expect(ids([...buildDialogues([m('c', 'b'), m('b', 'a'), m('a', '')])])).toEqual(['a>b>c']);
  });

  it('treats orphans as roots by default, or drops their subtrees', () => {
    const msgs = [m('a', null), m('o', 'missing'), m('p', 'o')];
    expect(ids([...buildDialogues(msgs)])).toEqual(['a', 'o>p']);
    expect(ids([...buildDialogues(msgs, { orphans: 'drop' })])).toEqual(['a']);
  });

  it('names the ids of a cycle in a typed error', () => {
    const msgs = [m('a', null), m('x', 'z'), m('y', 'x'), m('z', 'y')];
    expect(() => [...buildDialogues(msgs)]).toThrow(expect.objectContaining({ code: 'DATA_CONVERSATION_CYCLE', details: { cycle: ['x', 'z', 'y', 'x'] } }));
    expect(() => [...buildDialogues([m('s', 's')])]).toThrow(expect.objectContaining({ code: 'DATA_CONVERSATION_CYCLE' }));
  });

  it('rejects duplicate ids', () => {
    expect(() => [...buildDialogues([m('a', null), m('a', null)])]).toThrow(expect.objectContaining({ code: 'DATA_CONVERSATION_DUPLICATE_ID' }));
  });

  it('walks a 200 000-deep thread without recursion', () => {
    const msgs: Message[] = [m('0', null)];
    for (let i = 1; i < 200_000; i++) msgs.push(m(String(i), String(i - 1)));
    const [only, ...rest] = [...buildDialogues(msgs)];
    expect(rest).toHaveLength(0);
    expect(only).toHaveLength(200_000);
    expect(only[199_999].id).toBe('199999');
  });

  it('renders a dialogue as a document with roles', () => {
    const d = dialogueToDocument([m('q', null, 'Hi?', 'user'), m('r', 'q', 'Hello.', 'assistant')]);
    expect(d).toEqual({ id: 'r', text: 'user: Hi?\n\nassistant: Hello.', meta: { root: 'q', turns: ['q', 'r'] } });
  });
});
