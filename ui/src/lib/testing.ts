// Records for tests and the development harness.
import type { BranchMessage, Conversation, Message } from './types';

export function conversation(id: number, fields: Partial<Conversation> = {}): Conversation {
  return {
    id,
    title: `Conversation ${id}`,
    created_at: id * 1000,
    updated_at: id * 1000,
    pinned: false,
    model: null,
    settings: { system_prompt: null, sampling: {} },
    current_leaf_id: null,
    deleted_at: null,
    ...fields,
  };
}

export function message(id: number, fields: Partial<Message> = {}): Message {
  return {
    id,
    conversation_id: 1,
    parent_id: id > 1 ? id - 1 : null,
    role: 'user',
    content: `message ${id}`,
    status: 'done',
    error: null,
    model: null,
    stats: {
      ttft_ms: null,
      prefill_tps: null,
      decode_tps: null,
      prompt_tokens: null,
      generated_tokens: null,
      reused_tokens: null,
    },
    created_at: id * 1000,
    updated_at: id * 1000,
    ...fields,
  };
}

export function entry(m: Message, siblingIndex = 1, siblingCount = 1): BranchMessage {
  return { message: m, sibling_index: siblingIndex, sibling_count: siblingCount, attachments: [] };
}
