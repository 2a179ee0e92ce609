// test-images.mjs: the CIFAR-10 test images the explorer works on. From the
// site they arrive as needed: the first records at start (the page asks for
// the 1,000 pixel-exact ones, 3 MB of the 30 MB file), the rest by a range
// request when a larger image count is picked; the user's own file replaces
// them whole. Every new copy goes to the workers (publish) before the page
// uses it; a longer copy of the site's file is marked `append`, so workers
// keep their slices of the first records.
import { fetchRecords, cifarLabels, checkCifar } from './data.mjs';

export class TestImages {
  /** ArrayBuffer of whole records, or null before any arrive. */
  bytes = null;
  /** Uint8Array of their labels, or null. */
  labels = null;
  #url;
  #publish;
  #progress;
  #site = null;     // { total }: records in the site's file, while more may come from it
  #more = null;     // the fetch of more records in flight

  /**
   * @param {{url: string, publish: (bytes: ArrayBuffer, append: boolean) => Promise<void>,
   *          progress?: {start: Function, set: Function, done: Function}}} o
   */
  constructor({ url, publish, progress }) {
    this.#url = url;
    this.#publish = publish;
    this.#progress = progress;
  }

  /** Records loaded. */
  get count() { return this.labels?.length ?? 0; }

  /**
   * Records there are to work on: all of the site's file (loaded or not), or
   * the user's own file. A site may ship fewer than 10,000 (`make site`: the
   * first 1,000).
   */
  get total() { return this.#site?.total ?? this.count; }

  /** Whether they are the site's (not the user's own file). */
  get fromSite() { return this.#site != null; }

  /**
   * The site's first `first` records (or all, from a server without ranges).
   * Resolves false if the site has no test images (HTTP 404).
   */
  async start(first, { onProgress } = {}) {
    const r = await fetchRecords(this.#url, 0, first, { onProgress });
    if (!r) return false;
    checkCifar(r.bytes, 'data/test_batch.bin');
    await this.#set(r.bytes, false);
    this.#site = { total: r.total };
    return true;
  }

  /**
   * At least min(n, records in the site's file) records, fetching the rest.
   * A failed fetch is reported once through the returned message, and no
   * more are asked for; resolves null when nothing went wrong.
   */
  async ensure(n) {
    let problem = null;
    while (this.#site && this.count < Math.min(n, this.#site.total)) {
      this.#more ??= this.#fetchMore(Math.min(n, this.#site.total)).finally(() => { this.#more = null; });
      problem = (await this.#more) ?? problem;
    }
    return problem;
  }

  /** The user's own records, replacing the site's (after any fetch in flight). */
  async replace(bytes, name) {
    const n = checkCifar(bytes, name);
    await this.#more;
    this.#site = null;
    await this.#set(bytes, false);
    return n;
  }

  async #set(bytes, append) {
    await this.#publish(bytes, append);
    this.bytes = bytes;
    this.labels = cifarLabels(bytes);
  }

  async #fetchMore(to) {
    const from = this.count;
    this.#progress?.start(`Loading test images ${from.toLocaleString('en-US')}–${(to - 1).toLocaleString('en-US')}`, null);
    try {
      const r = await fetchRecords(this.#url, from, to, { onProgress: (d, t) => this.#progress?.set(d / t) });
      if (!r) throw new Error('data/test_batch.bin is no longer there');
      if (!r.bytes.byteLength) throw new Error(`data/test_batch.bin sent no records from ${from.toLocaleString('en-US')} on`);
      const all = new Uint8Array(this.bytes.byteLength + r.bytes.byteLength);
      all.set(new Uint8Array(this.bytes));
      all.set(new Uint8Array(r.bytes), this.bytes.byteLength);
      checkCifar(all.buffer, 'data/test_batch.bin');
      if (!this.#site) return null;   // the user's own file replaced them meanwhile
      this.#site.total = r.total;
      await this.#set(all.buffer, true);
      return null;
    } catch (e) {
      if (this.#site) this.#site.total = this.count;   // ask no more
      return `More test images: ${e.message}; using the ${this.count.toLocaleString('en-US')} loaded.`;
    } finally {
      this.#progress?.done();
    }
  }
}
