// Conversation threads: reply trees of messages (id, parentId) flattened into root-to-leaf dialogues, as pipelines do for forum data.
import { DataError } from './errors.js';
import type { Document } from './types.js';

/** One message of a reply tree. */
export interface Message {
  /** Unique id within the collection. */
  id: string;
  /** The message it replies to; null/undefined/'' for a thread root. */
  parentId?: string | null;
  /** The message text. */
  text: string;
  /** Optional speaker or role (`user`, `assistant`, a user name...). */
  role?: string;
  /** Anything else carried through. */
  [extra: string]: unknown;
}

/** Options of {@link buildDialogues}. */
export interface DialogueOptions {
  /** What to do with a message whose parent is not in the collection: treat it as a root, or drop its subtree. Default 'root'. */
  orphans?: 'root' | 'drop';
}

/**
 * Yields every root-to-leaf path of the reply forest, children in input order. Iterative (an explicit
 * stack), so a thread thousands of replies deep does not overflow the call stack. Throws
 * `DATA_CONVERSATION_DUPLICATE_ID` for a repeated id and `DATA_CONVERSATION_CYCLE` (naming the ids on
 * the cycle) when replies loop.
 */
export function* buildDialogues(messages: Iterable<Message>, options: DialogueOptions = {}): Generator<Message[]> {
  const orphans = options.orphans ?? 'root';
  const byId = new Map<string, Message>();
  const order: Message[] = [];
  for (const m of messages) {
    if (byId.has(m.id)) {
      throw new DataError('DATA_CONVERSATION_DUPLICATE_ID', `message id "${m.id}" appears twice`, {
        hint: 'message ids must be unique within a collection; prefix them with the thread or source id',
        details: { id: m.id },
      });
    }
    byId.set(m.id, m);
    order.push(m);
  }
  const children = new Map<string, Message[]>();
  const roots: Message[] = [];
  for (const m of order) {
    const p = m.parentId;
    if (p === undefined || p === null || p === '') roots.push(m);
    else if (!byId.has(p)) {
      if (orphans === 'root') roots.push(m);
    } else {
      let list = children.get(p);
      if (list === undefined) children.set(p, (list = []));
      list.push(m);
    }
  }
  const reached = new Set<string>();
  for (const root of roots) {
    // Stack of (message, depth); `path` holds the current root-to-node path.
    const stack: Array<[Message, number]> = [[root, 0]];
    const path: Message[] = [];
    while (stack.length > 0) {
      const [m, depth] = stack.pop()!;
      path.length = depth;
      path.push(m);
      reached.add(m.id);
      const kids = children.get(m.id);
      if (kids === undefined) yield path.slice();
      else for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i], depth + 1]);
    }
  }
  if (orphans === 'drop') markOrphanSubtrees(order, byId, children, reached);
  if (reached.size < order.length) {
    const cycle = findCycle(order.find((m) => !reached.has(m.id))!, byId);
    throw new DataError('DATA_CONVERSATION_CYCLE', `reply cycle: ${cycle.join(' → ')}`, {
      hint: 'a message cannot (indirectly) reply to itself; fix the parentId of one message on the cycle',
      details: { cycle },
    });
  }
}

function markOrphanSubtrees(order: Message[], byId: Map<string, Message>, children: Map<string, Message[]>, reached: Set<string>): void {
  const stack = order.filter((m) => m.parentId && !byId.has(m.parentId));
  while (stack.length > 0) {
    const m = stack.pop()!;
    if (reached.has(m.id)) continue;
    reached.add(m.id);
    for (const k of children.get(m.id) ?? []) stack.push(k);
  }
}

function findCycle(start: Message, byId: Map<string, Message>): string[] {
  const seen = new Map<string, number>();
  const chain: string[] = [];
  let m: Message | undefined = start;
  while (m !== undefined && !seen.has(m.id)) {
    seen.set(m.id, chain.length);
    chain.push(m.id);
    m = m.parentId ? byId.get(m.parentId) : undefined;
  }
  if (m === undefined) return chain;
  return [...chain.slice(seen.get(m.id)!), m.id];
}

/** Options of {@link dialogueToDocument}. */
export interface DialogueFormat {
  /** Put `role: ` before each turn when the message has a role. Default true. */
  withRoles?: boolean;
  /** Separator between turns. Default '\n\n'. */
  separator?: string;
}

/** Renders a dialogue as a Document: id is the leaf's id, meta holds the thread root and the turn ids. */
export function dialogueToDocument(dialogue: readonly Message[], format: DialogueFormat = {}): Document {
  const withRoles = format.withRoles ?? true;
  const text = dialogue.map((m) => (withRoles && m.role ? `${m.role}: ${m.text}` : m.text)).join(format.separator ?? '\n\n');
  return { id: dialogue[dialogue.length - 1].id, text, meta: { root: dialogue[0].id, turns: dialogue.map((m) => m.id) } };
}
