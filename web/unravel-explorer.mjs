// unravel-explorer.mjs: an embeddable custom element.
//
//   <script type="module" src="unravel-explorer.mjs"></script>
//   <unravel-explorer model="resnet20" view="lesion"></unravel-explorer>
//
// Attributes (as the page's URL parameters, same checks and messages):
// model, compare, view (lesion | delete | swap | paths | depth), images, samples,
// seed, deleted, order. It renders the block diagram, the live error and the
// chosen experiment in its own shadow root; it does not touch the page URL.
// Changing an attribute rebuilds the explorer.
import { PATHS } from './config.mjs';
import { STATE_TABLE } from './url-state.mjs';
import { createExplorer } from './app.mjs';

const ATTRS = STATE_TABLE.map((e) => e.name);

export class UnravelExplorer extends HTMLElement {
  static observedAttributes = ATTRS;
  #explorer = null;
  #scheduled = false;

  connectedCallback() { this.#schedule(); }
  attributeChangedCallback() { if (this.isConnected) this.#schedule(); }
  disconnectedCallback() { this.#explorer?.destroy(); this.#explorer = null; }

  /** Resolves once the model and images are loaded (or a message explains why not). */
  get ready() { return this.#explorer?.ready ?? Promise.resolve(); }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => { this.#scheduled = false; this.#build(); });
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
    for (const name of ATTRS) if (this.hasAttribute(name)) state[name] = this.getAttribute(name);
    const host = document.createElement('div');
    host.className = 'ux-host';
    shadow.append(host);
    delete this.dataset.ready;
    this.#explorer = createExplorer(shadow, { syncUrl: false, state, only: state.view ?? 'lesion' });
    this.#explorer.ready.then(() => { this.dataset.ready = 'true'; });
  }
}

if (!customElements.get('unravel-explorer'))
  customElements.define('unravel-explorer', UnravelExplorer);
