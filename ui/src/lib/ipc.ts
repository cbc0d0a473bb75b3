// The only module that talks to Rust. Every command of the IPC contract has one typed function
// here; the rest of the UI calls these (through the `Ipc` object, which tests can replace).
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { getCurrentWebview, type DragDropEvent } from '@tauri-apps/api/webview';
import type {
  AppView,
  Attached,
  AudioDevices,
  BackupDone,
  BranchMessage,
  ChatEvent,
  Conversation,
  DownloadOutcome,
  EngineStatus,
  ErrorCode,
  ExportFormat,
  FileKind,
  ImportMode,
  InstalledModel,
  Message,
  ModelChoice,
  ModelsOverview,
  OpenConversation,
  PendingImage,
  Progress,
  RecordedClip,
  RecordingProgress,
  Recovery,
  SearchHit,
  Settings,
  SpeechState,
  StartupProblem,
  ToolDecision,
} from './types';

// Every code Rust can send, as a value. A Record over the generated union: a code added in Rust
// and missing here (or one here that Rust does not have) fails `npm run check`.
const ERROR_CODES: Record<ErrorCode, true> = {
  bad_input: true,
  not_found: true,
  busy: true,
  no_model: true,
  cannot_see: true,
  cannot_hear: true,
  microphone: true,
  nothing_recorded: true,
  speech: true,
  engine: true,
  store: true,
  io: true,
  download: true,
  cancelled: true,
  out_of_memory: true,
  unsupported_architecture: true,
  projector_mismatch: true,
  gpu_lost: true,
  unauthorized: true,
  no_space: true,
  network: true,
  hash_mismatch: true,
};

function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code);
}

/** A failure reported by Rust (`{ code, message }`), or one of the UI's own turned into that shape. */
export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }

  /** Turns whatever `invoke` rejected with into an AppError. */
  static from(raw: unknown): AppError {
    if (raw instanceof AppError) return raw;
    if (raw && typeof raw === 'object' && 'code' in raw && 'message' in raw) {
      const { code, message } = raw as { code: unknown; message: unknown };
      return new AppError(isErrorCode(code) ? code : 'io', String(message));
    }
    if (raw instanceof Error) return new AppError('io', raw.message);
    return new AppError('io', String(raw));
  }
}

async function call<T>(command: Command, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (raw) {
    throw AppError.from(raw);
  }
}

/** Runs a streaming command: `onEvent` receives the reply's events in order. */
function stream(
  command: Command,
  args: Record<string, unknown>,
  onEvent: (event: ChatEvent) => void,
): Promise<Message> {
  const channel = new Channel<ChatEvent>(onEvent);
  return call<Message>(command, { ...args, onEvent: channel });
}

export const MENU_EVENTS = ['menu://new-chat', 'menu://search', 'menu://settings'] as const;
export type MenuEvent = (typeof MENU_EVENTS)[number];

export const ipc = {
  appState: () => call<AppView>('app_state'),
  saveSettings: (settings: Settings) => call<AppView>('save_settings', { settings }),
  pickModelFile: (kind: FileKind) => call<string | null>('pick_model_file', { kind }),
  loadModel: (choice: ModelChoice) => call<EngineStatus>('load_model', { choice }),
  engineStatus: () => call<EngineStatus>('engine_status'),

  modelsOverview: () => call<ModelsOverview>('models_overview'),
  /** Downloads (or resumes) a catalog model; resolves when it is installed, paused or cancelled. */
  downloadModel: (
    id: string,
    withMmproj: boolean,
    acceptLicence: boolean,
    onProgress: (progress: Progress) => void,
  ) =>
    call<DownloadOutcome>('download_model', {
      id,
      withMmproj,
      acceptLicence,
      onProgress: new Channel<Progress>(onProgress),
    }),
  pauseDownload: (id: string) => call<null>('pause_download', { id }),
  cancelDownload: (id: string) => call<null>('cancel_download', { id }),
  useModel: (id: string) => call<EngineStatus>('use_model', { id }),
  deleteModel: (id: string) => call<null>('delete_model', { id }),
  importModel: (model: string, mmproj: string | null, mode: ImportMode) =>
    call<InstalledModel>('import_model', { model, mmproj, mode }),

  listConversations: (limit: number, offset: number) =>
    call<Conversation[]>('list_conversations', { limit, offset }),
  createConversation: (systemPrompt: string | null) =>
    call<Conversation>('create_conversation', { systemPrompt }),
  openConversation: (id: number) => call<OpenConversation>('open_conversation', { id }),
  renameConversation: (id: number, title: string) =>
    call<Conversation>('rename_conversation', { id, title }),
  setPinned: (id: number, pinned: boolean) => call<Conversation>('set_pinned', { id, pinned }),
  /** Sets the system prompt of the conversation's next replies (null: none). */
  setSystemPrompt: (conversationId: number, prompt: string | null) =>
    call<Conversation>('set_system_prompt', { conversationId, prompt }),
  deleteConversation: (id: number) => call<null>('delete_conversation', { id }),
  restoreConversation: (id: number) => call<Conversation>('restore_conversation', { id }),
  searchMessages: (query: string, limit: number) =>
    call<SearchHit[]>('search_messages', { query, limit }),

  /**
   * Sends `text` with the attached images and clips `images` (their ids, in order); `text` may be
   * empty with attachments. The reply is read aloud when `speak` is true (conversation mode), or
   * when it is null and spoken replies are on. With `transcriber` (an installed model's id), clips
   * for a loaded model that cannot hear are written down by that model and sent as text.
   */
  sendMessage: (
    conversationId: number,
    text: string,
    images: number[],
    onEvent: (e: ChatEvent) => void,
    speak: boolean | null = null,
    transcriber: string | null = null,
    requireTool = false,
  ) => stream('send_message', { conversationId, text, images, speak, transcriber, requireTool }, onEvent),
  /** Attaches the image files at `paths` (absolute, at most 10: a native drop). */
  attachImages: (paths: string[]) => call<Attached>('attach_images', { paths }),
  /** Attaches the images chosen in the native file dialog. */
  pickImages: () => call<Attached>('pick_images'),
  /** Attaches the image on the system clipboard, read natively; null when it holds none. */
  pasteImage: () => call<PendingImage | null>('paste_image'),
  /** Forgets an attached image or clip (removed before sending). */
  discardImage: (id: number) => call<null>('discard_image', { id }),

  /** The microphones and speakers the system has. */
  audioDevices: () => call<AudioDevices>('audio_devices'),
  /**
   * Starts recording a question (push-to-talk pressed); progress every 50 ms until it is finished
   * or cancelled. `transcriber`: the installed model that will write it down for a loaded model
   * that cannot hear.
   */
  startRecording: (onProgress: (progress: RecordingProgress) => void, transcriber: string | null = null) =>
    call<null>('start_recording', { onProgress: new Channel<RecordingProgress>(onProgress), transcriber }),
  /** Ends the recording and attaches its clip to the next message. */
  finishRecording: () => call<RecordedClip>('finish_recording'),
  /** Ends the recording and throws it away. */
  cancelRecording: () => call<null>('cancel_recording'),
  /** Reads a reply (Markdown) aloud, in place of anything being read. */
  speakText: (text: string) => call<null>('speak_text', { text }),
  /** Silences speech at once. */
  stopSpeaking: () => call<null>('stop_speaking'),
  /** Listens to what the speaker does; resolves to a function that stops listening. */
  onSpeech: (handler: (state: SpeechState) => void): Promise<UnlistenFn> =>
    listen<SpeechState>('speech', (event) => handler(event.payload)),
  regenerateReply: (messageId: number, onEvent: (e: ChatEvent) => void) =>
    stream('regenerate_reply', { messageId }, onEvent),
  editMessage: (messageId: number, text: string, onEvent: (e: ChatEvent) => void) =>
    stream('edit_message', { messageId, text }, onEvent),
  stopReply: () => call<null>('stop_reply'),
  /** Answers the tool call the running reply waits on (a `confirm_tool` event). */
  answerToolCall: (callId: string, decision: ToolDecision) =>
    call<null>('answer_tool_call', { callId, decision }),
  switchBranch: (conversationId: number, messageId: number) =>
    call<BranchMessage[]>('switch_branch', { conversationId, messageId }),
  siblingIds: (messageId: number) => call<number[]>('sibling_ids', { messageId }),

  exportConversation: (id: number, format: ExportFormat) =>
    call<string | null>('export_conversation', { id, format }),
  importConversation: () => call<Conversation | null>('import_conversation'),
  openExternal: (url: string) => call<null>('open_external', { url }),
  openLog: () => call<null>('open_log'),
  backupConversations: () => call<BackupDone | null>('backup_conversations'),
  startupProblem: () => call<StartupProblem | null>('startup_problem'),
  recoverStartup: (recovery: Recovery) => call<StartupProblem | null>('recover_startup', { recovery }),

  /** Listens to the shell's menu events; resolves to a function that stops listening. */
  onMenu: async (handler: (event: MenuEvent) => void): Promise<UnlistenFn> => {
    const stops = await Promise.all(MENU_EVENTS.map((name) => listen(name, () => handler(name))));
    return () => stops.forEach((stop) => stop());
  },

  /**
   * Listens to files dragged onto the window. Tauri takes drops natively (the page's HTML5 drop
   * events never fire), so this is the only way to learn the dropped files' paths. Outside Tauri
   * it rejects.
   */
  onDragDrop: async (handler: (event: DragDropEvent) => void): Promise<UnlistenFn> =>
    getCurrentWebview().onDragDropEvent((event) => handler(event.payload)),
};

export type Ipc = typeof ipc;

/**
 * Every command the window may invoke; `call` and `stream` take nothing else. The app's command
 * tests (src-tauri/tests/commands/contract.rs) check that it names exactly the commands the shell
 * registers, build.rs declares and the capability grants, and that each one is called above.
 */
export const COMMANDS = [
  'app_state',
  'save_settings',
  'pick_model_file',
  'load_model',
  'engine_status',
  'list_conversations',
  'create_conversation',
  'open_conversation',
  'rename_conversation',
  'set_pinned',
  'set_system_prompt',
  'delete_conversation',
  'restore_conversation',
  'search_messages',
  'send_message',
  'attach_images',
  'pick_images',
  'paste_image',
  'discard_image',
  'regenerate_reply',
  'edit_message',
  'answer_tool_call',
  'stop_reply',
  'switch_branch',
  'sibling_ids',
  'export_conversation',
  'import_conversation',
  'open_external',
  'open_log',
  'backup_conversations',
  'audio_devices',
  'start_recording',
  'finish_recording',
  'cancel_recording',
  'speak_text',
  'stop_speaking',
  'startup_problem',
  'recover_startup',
  'models_overview',
  'download_model',
  'pause_download',
  'cancel_download',
  'use_model',
  'delete_model',
  'import_model',
] as const;

/** A command's name. */
export type Command = (typeof COMMANDS)[number];
