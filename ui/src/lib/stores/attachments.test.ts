import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_IMAGES } from '../attachments';
import type { Ipc } from '../ipc';
import type { Attached, Attachment, PendingImage } from '../types';
import { AttachmentsStore } from './attachments.svelte';
import { ToastStore } from './toasts.svelte';

function pending(id: number, name: string | null = `image-${id}.png`): PendingImage {
  return { id, name, width: 640, height: 480, media_type: 'image/png' };
}

function attached(images: PendingImage[], refused: string[] = []): Attached {
  return { images, clips: [], refused };
}

/** The store wired to toasts as main.ts wires it, over a shell that attaches what it is given. */
function setup(answer: (paths: string[]) => Attached = (paths) => attached(paths.map((_, i) => pending(i + 1)))) {
  const toasts = new ToastStore();
  const ipc = {
    attachImages: vi.fn(async (paths: string[]) => answer(paths)),
    pickImages: vi.fn(async () => attached([pending(50, 'picked.jpg')])),
    pasteImage: vi.fn(async (): Promise<PendingImage | null> => pending(60, null)),
    discardImage: vi.fn(async (_id: number) => null),
  };
  const store = new AttachmentsStore(ipc as unknown as Ipc, {
    onRefused: (title, text) => toasts.show(text, { kind: 'warning', title }),
    onError: (error) => toasts.error(error),
  });
  return { store, ipc, toasts };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('the images attached to the next message', () => {
  it('keeps the images in the order they came, across attaches', async () => {
    const { store } = setup();
    store.add(attached([pending(3), pending(1)]));
    await store.pick();
    await store.paste();
    expect(store.ids, 'the order the message will carry them in').toEqual([3, 1, 50, 60]);
  });

  it('says in one notice why files were refused, keeping the good ones', async () => {
    const { store, toasts } = setup(() =>
      attached([pending(1, 'cat.png')], ['notes.txt is not an image', 'huge.png is 80 MiB, more than the 50 MiB an image may have']),
    );
    await store.attach(['/home/me/cat.png', '/home/me/notes.txt', '/home/me/huge.png']);
    expect(store.ids).toEqual([1]);
    expect(toasts.items, 'one notice for the whole drop, not one per file').toHaveLength(1);
    expect(toasts.items[0]).toMatchObject({ kind: 'warning', title: 'Not attached' });
    expect(toasts.items[0].text, 'each refusal names its file').toContain('notes.txt is not an image');
    expect(toasts.items[0].text).toContain('huge.png is 80 MiB');
  });

  it('says nothing when every file was attached', async () => {
    const { store, toasts } = setup();
    await store.attach(['/a.png', '/b.png']);
    expect(store.ids).toEqual([1, 2]);
    expect(toasts.items).toHaveLength(0);
  });

  it(`keeps at most ${MAX_IMAGES} and discards the others in the shell, saying so`, async () => {
    const { store, ipc, toasts } = setup((paths) => attached(paths.map((_, i) => pending(100 + i))));
    store.add(attached([1, 2, 3, 4, 5, 6, 7].map((id) => pending(id))));
    await store.attach(['/1.png', '/2.png', '/3.png', '/4.png', '/5.png']);
    expect(store.images).toHaveLength(MAX_IMAGES);
    expect(store.ids.slice(-3), 'the first ones of the drop fill the room left').toEqual([100, 101, 102]);
    expect(ipc.discardImage.mock.calls.map(([id]) => id), 'the shell forgets the two left out').toEqual([103, 104]);
    expect(toasts.items).toHaveLength(1);
    expect(toasts.items[0].text).toContain('2 more could not be attached');
    expect(store.full).toBe(true);

    await store.attach(['/6.png']);
    await store.pick();
    await store.paste();
    expect(ipc.attachImages, 'a full message asks the shell for nothing more').toHaveBeenCalledTimes(1);
    expect(ipc.pickImages).not.toHaveBeenCalled();
    expect(ipc.pasteImage).not.toHaveBeenCalled();
  });

  it('removes an image in the shell too', async () => {
    const { store, ipc } = setup();
    store.add(attached([pending(1), pending(2), pending(3)]));
    await store.remove(2);
    expect(store.ids).toEqual([1, 3]);
    expect(ipc.discardImage).toHaveBeenCalledExactlyOnceWith(2);
  });

  it('forgets sent images without discarding them (the shell already did) and keeps the others', () => {
    const { store, ipc } = setup();
    store.add(attached([pending(1), pending(2), pending(3)]));
    store.sent([1, 2]);
    expect(store.ids, 'an image attached while the message was on its way stays').toEqual([3]);
    expect(ipc.discardImage).not.toHaveBeenCalled();
  });

  it('does nothing when the clipboard holds no image', async () => {
    const { store, ipc, toasts } = setup();
    ipc.pasteImage.mockResolvedValueOnce(null);
    await store.paste();
    expect(store.images).toHaveLength(0);
    expect(toasts.items).toHaveLength(0);
  });

  it('shows a failed attach as an error with the shell’s sentence', async () => {
    const { store, ipc, toasts } = setup();
    ipc.attachImages.mockRejectedValueOnce({ code: 'bad_input', message: '12 files were dropped; one message may carry at most 10 images' });
    await store.attach(Array.from({ length: 12 }, (_, i) => `/${i}.png`));
    expect(store.images).toHaveLength(0);
    expect(toasts.items[0]).toMatchObject({ text: '12 files were dropped; one message may carry at most 10 images' });
  });
});

describe('files dragged onto the window', () => {
  const position = { x: 10, y: 10 } as never;

  it('shows the drop target while files are over the window and attaches them on drop', async () => {
    const { store, ipc } = setup();
    store.dragDrop({ type: 'enter', paths: ['/home/me/cat.png'], position });
    expect(store.dragging).toBe(true);
    store.dragDrop({ type: 'over', position });
    expect(store.dragging, 'still over the window').toBe(true);
    store.dragDrop({ type: 'drop', paths: ['/home/me/cat.png'], position });
    expect(store.dragging, 'gone once dropped').toBe(false);
    await vi.waitFor(() => expect(store.ids).toEqual([1]));
    expect(ipc.attachImages).toHaveBeenCalledExactlyOnceWith(['/home/me/cat.png']);
  });

  it('hides the drop target when the drag leaves, attaching nothing', () => {
    const { store, ipc } = setup();
    store.dragDrop({ type: 'enter', paths: ['/home/me/cat.png'], position });
    store.dragDrop({ type: 'leave' });
    expect(store.dragging).toBe(false);
    expect(ipc.attachImages).not.toHaveBeenCalled();
  });

  it('shows no drop target for a drag that carries no files (text from another window)', () => {
    const { store, ipc } = setup();
    store.dragDrop({ type: 'enter', paths: [], position });
    expect(store.dragging).toBe(false);
    store.dragDrop({ type: 'drop', paths: [], position });
    expect(ipc.attachImages).not.toHaveBeenCalled();
  });
});

describe('the enlarged image', () => {
  const image: Attachment = {
    id: 1, message_id: 11, sha256: 'a'.repeat(64), media_type: 'image/png', size: 1000,
    width: 640, height: 480, duration_ms: null, name: 'cat.png', created_at: 0,
  };

  it('gives the focus back to the thumbnail that opened it', () => {
    const { store } = setup();
    const thumbnail = document.createElement('button');
    document.body.append(thumbnail);
    store.view(image, thumbnail);
    expect(store.viewing?.image).toBe(image);
    document.body.focus();
    store.closeViewer();
    expect(store.viewing).toBeNull();
    expect(document.activeElement, 'the focus is where it was before').toBe(thumbnail);
    thumbnail.remove();
  });
});
