import { describe, expect, it, vi } from 'vitest';
import { AppError } from './ipc';
import { followLink, type LinkOpener } from './links';

const URL = 'https://example.com/';

function opener(fields: Pick<Partial<LinkOpener>, 'open' | 'copy'> = {}) {
  return {
    open: fields.open ?? vi.fn(async () => null),
    copy: fields.copy ?? vi.fn(async () => {}),
    warn: vi.fn<LinkOpener['warn']>(),
    refused: vi.fn<LinkOpener['refused']>(),
  };
}

describe('opening a link from a reply (issue 10)', () => {
  it('opens it and says nothing more', async () => {
    const links = opener();
    await followLink(URL, links);
    expect(links.open).toHaveBeenCalledWith(URL);
    expect(links.copy).not.toHaveBeenCalled();
    expect(links.warn).not.toHaveBeenCalled();
  });

  it('copies the address and says so in words when no browser opens', async () => {
    const links = opener({ open: vi.fn(async () => Promise.reject(new AppError('io', 'could not open the link: exit status: 3'))) });
    await followLink(URL, links);
    expect(links.copy).toHaveBeenCalledWith(URL);
    expect(links.warn).toHaveBeenCalledWith('No browser could be opened for https://example.com/; the address was copied.');
    expect(links.warn.mock.calls[0][0], "the launcher's exit status means nothing to the user").not.toMatch(/exit status/);
  });

  it('says that the address could not be copied either', async () => {
    const links = opener({
      open: vi.fn(async () => Promise.reject({ code: 'io', message: 'could not open the link: no such file' })),
      copy: vi.fn(() => {
        throw new Error('no clipboard');
      }),
    });
    await followLink(URL, links);
    expect(links.warn).toHaveBeenCalledTimes(1);
    const said = links.warn.mock.calls[0][0];
    expect(said).toContain(URL);
    expect(said, 'it must not claim a copy that did not happen').toMatch(/could not be copied/);
  });

  it('passes on the refusal of a link that is not a web or mail link', async () => {
    const refusal = new AppError('bad_input', 'only web and mail links open, not file: links');
    const links = opener({ open: vi.fn(async () => Promise.reject(refusal)) });
    await followLink('file:///etc/passwd', links);
    expect(links.refused).toHaveBeenCalledWith(refusal);
    expect(links.copy, 'a refused address is not put on the clipboard').not.toHaveBeenCalled();
  });
});
