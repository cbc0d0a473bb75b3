import type { Ipc } from '../ipc';
import type { Conversation } from '../types';

const PAGE = 100;

/** Pinned first, then the most recently updated; ties by id, newest first. */
export function sortConversations(list: Conversation[]): Conversation[] {
  return [...list].sort(
    (a, b) =>
      Number(b.pinned) - Number(a.pinned) || b.updated_at - a.updated_at || b.id - a.id,
  );
}

type ConversationsIpc = Pick<
  Ipc,
  | 'listConversations'
  | 'createConversation'
  | 'renameConversation'
  | 'setPinned'
  | 'deleteConversation'
  | 'restoreConversation'
>;

/** The sidebar's list of conversations, kept in the order the shell would give it. */
export class ConversationsStore {
  items = $state<Conversation[]>([]);
  hasMore = $state(false);
  private readonly ipc: ConversationsIpc;

  constructor(ipc: ConversationsIpc) {
    this.ipc = ipc;
  }

  async load(): Promise<void> {
    const count = Math.max(PAGE, this.items.length);
    const page = await this.ipc.listConversations(count, 0);
    this.items = sortConversations(page);
    this.hasMore = page.length === count;
  }

  async loadMore(): Promise<void> {
    const page = await this.ipc.listConversations(PAGE, this.items.length);
    const known = new Set(this.items.map((c) => c.id));
    this.items = sortConversations([...this.items, ...page.filter((c) => !known.has(c.id))]);
    this.hasMore = page.length === PAGE;
  }

  /** Puts a changed or new conversation in its place. */
  upsert(conversation: Conversation): void {
    const rest = this.items.filter((c) => c.id !== conversation.id);
    this.items = conversation.deleted_at === null ? sortConversations([...rest, conversation]) : rest;
  }

  get(id: number): Conversation | undefined {
    return this.items.find((c) => c.id === id);
  }

  async create(systemPrompt: string | null): Promise<Conversation> {
    const conversation = await this.ipc.createConversation(systemPrompt);
    this.upsert(conversation);
    return conversation;
  }

  async rename(id: number, title: string): Promise<void> {
    this.upsert(await this.ipc.renameConversation(id, title));
  }

  async togglePin(id: number): Promise<void> {
    const conversation = this.get(id);
    if (conversation) this.upsert(await this.ipc.setPinned(id, !conversation.pinned));
  }

  /** Soft-deletes; returns what was removed so that the caller can offer to undo. */
  async remove(id: number): Promise<Conversation | undefined> {
    const conversation = this.get(id);
    await this.ipc.deleteConversation(id);
    this.items = this.items.filter((c) => c.id !== id);
    return conversation;
  }

  async restore(id: number): Promise<Conversation> {
    const conversation = await this.ipc.restoreConversation(id);
    this.upsert(conversation);
    return conversation;
  }
}
