// A simple chat template for base models: role-prefixed turns, ending with the assistant's prefix.

/** One chat message as OpenAI's API sends it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Renders messages as plain "Role: text" turns; `stop` ends the assistant's turn at the next user turn. */
export const plainChatTemplate = {
  /** Stop strings that end the assistant's reply. */
  stop: ['\nUser:', '\nSystem:'],
  /** The prompt for the next assistant turn. */
  render(messages: readonly ChatMessage[]): string {
    const turns = messages.map((m) => `${m.role === 'system' ? 'System' : m.role === 'user' ? 'User' : 'Assistant'}: ${m.content.trim()}`);
    return `${turns.join('\n')}\nAssistant:`;
  },
};
