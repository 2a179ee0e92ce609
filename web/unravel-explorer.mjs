// unravel-explorer.mjs: an embeddable custom element, on any site.
//
//   <script type="module" src="https://unravel.example/unravel-explorer.mjs"></script>
//   <unravel-explorer model="resnet20" view="lesion"></unravel-explorer>
//
// Attributes (as the page's URL parameters, same checks and messages):
// model, compare, view (lesion | delete | swap | paths | depth), images, samples,
// seed, deleted, order, pbatch, q, grid; and where the files are: models-url,
// data-url, wasm-url (default: beside this module, config.mjs PATHS; a
// relative value is resolved against the host document). It renders the block
// diagram, the live error and the chosen experiment in its own shadow root; it
// does not touch the page URL. Changing an attribute rebuilds the explorer.
//
// Events (bubbling, composed): unravel-plan-change when the user changes the
// plan (detail {model, deleted, order}), unravel-result when an experiment or
// a live evaluation finishes (detail {view, images, ...its numbers}).
// Theming: --unravel-* custom properties and ::part(); see embed.html and
// unravel-explorer.d.ts / custom-elements.json.
import { PATHS } from './config.mjs';
import { STATE_TABLE } from './url-state.mjs';
import { createExplorer } from './app.mjs';

const STATE_ATTRS = STATE_TABLE.map((e) => e.name);
/** Attributes that move one of PATHS for this element. */
const PATH_ATTRS = Object.freeze({ 'models-url': 'models', 'data-url': 'testBatch', 'wasm-url': 'wasm' });

export class UnravelExplorer extends HTMLElement {
  static observedAttributes = [...STATE_ATTRS, ...Object.keys(PATH_ATTRS)];
  #explorer = null;
  #scheduled = false;

  connectedCallback() { this.#schedule(); }
  attributeChangedCallback() { if (this.isConnected) this.#schedule(); }
  disconnectedCallback() { this.#explorer?.destroy(); this.#explorer = null; }

  /** Resolves once the model and images are loaded (or a message explains why not). */
  get ready() { return this.#explorer?.ready ?? Promise.resolve(); }

  /** The plan on show, as unravel-plan-change gives it. */
  get plan() {
    const s = this.#explorer?.state;
    return s ? { model: s.model, deleted: [...s.deleted], order: s.order ? [...s.order] : null } : null;
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => { this.#scheduled = false; this.#build(); });
  }

  /** The PATHS this element's attributes move, as absolute URLs. */
  #paths() {
    const paths = {};
    for (const [attr, key] of Object.entries(PATH_ATTRS)) {
      const value = this.getAttribute(attr)?.trim();
      if (!value) continue;
      const url = new URL(value, document.baseURI).href;
      paths[key] = key === 'models' && !url.endsWith('/') ? `${url}/` : url;   // a folder: manifests resolve inside it
    }
    return paths;
  }

  #build() {
    this.#explorer?.destroy();
    const shadow = this.shadowRoot ?? this.attachShadow({ mode: 'open' });
    shadow.replaceChildren();
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = PATHS.stylesheet;
    shadow.append(link);
    const state = {};
    for (const name of STATE_ATTRS) if (this.hasAttribute(name)) state[name] = this.getAttribute(name);
    const host = document.createElement('div');
    host.className = 'ux-host';
    shadow.append(host);
    delete this.dataset.ready;
    this.#explorer = createExplorer(shadow, {
      syncUrl: false, state, only: state.view ?? 'lesion', paths: this.#paths(),
      onEvent: (type, detail) => this.dispatchEvent(new CustomEvent(`unravel-${type}`, { detail, bubbles: true, composed: true })),
    });
    this.#explorer.ready.then(() => { this.dataset.ready = 'true'; });
  }
}

if (!customElements.get('unravel-explorer'))
  customElements.define('unravel-explorer', UnravelExplorer);
