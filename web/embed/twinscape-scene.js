// <twinscape-scene>: a live Twinscape 3D scene in any web page.
//
//   <script type="module" src="https://SERVER/twinscape-scene.js"></script>
//   <twinscape-scene server="https://SERVER" scene="ID" token="…" layers="a,b"
//                    style="height: 480px"></twinscape-scene>
//
// Attributes (and the properties of the same names) choose the scene, its
// layers (comma-separated; none: all), the server (default: the one this
// script came from) and the bearer token. Events (CustomEvent, `detail`):
// `scene-loaded`, `element-click`, `element-hover`, `error`. Methods:
// `selectElement(id)`, `flyTo(id)`, `setLayers([...] | null)`.
// The server must allow this page's origin: `twinscape serve --cors-origin`.
//
// The app's build (web/embed/post-build.sh) fills in the module's names.
const base = new URL("./", import.meta.url);
const MODULE = new URL("./__TWINSCAPE_MODULE__", base).href;
const WASM = new URL("./__TWINSCAPE_WASM__", base).href;
const STYLE = new URL("./twinscape-scene.css", base).href;
let copies = 0;

function addStyle() {
  if (document.querySelector("link[data-twinscape-scene]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = STYLE;
  link.dataset.twinscapeScene = "";
  document.head.appendChild(link);
}

function parseLayers(v) {
  if (v == null) return null;
  return String(v).split(",").map((s) => s.trim()).filter(Boolean);
}

export class TwinscapeScene extends HTMLElement {
  static observedAttributes = ["server", "scene", "token", "layers"];
  #mounted = null;
  #pending = [];
  #generation = 0;
  #connected = false;

  get server() { return this.getAttribute("server") || base.origin; }
  set server(v) { this.setAttribute("server", v); }
  get scene() { return this.getAttribute("scene"); }
  set scene(v) { this.setAttribute("scene", v); }
  get token() { return this.getAttribute("token"); }
  set token(v) { if (v == null) this.removeAttribute("token"); else this.setAttribute("token", v); }
  get layers() { return parseLayers(this.getAttribute("layers")); }
  set layers(v) { this.setLayers(v); }

  connectedCallback() {
    this.#connected = true;
    this.#start();
  }

  disconnectedCallback() {
    this.#connected = false;
    this.#generation++;
    this.#mounted = null;
    this.replaceChildren();
  }

  attributeChangedCallback(name, old, value) {
    if (old === value || !this.#connected) return;
    if (name === "layers") {
      const layers = parseLayers(value);
      this.#call((m) => m.setLayers(layers));
      return;
    }
    this.#start(); // another server, scene or token: a fresh copy
  }

  /** Selects an element (its popover opens) and flies to it. */
  selectElement(id) { this.#call((m) => m.selectElement(String(id))); }
  /** Flies to an element. */
  flyTo(id) { this.#call((m) => m.flyTo(String(id))); }
  /** Shows these layers (ids); `null` shows all. */
  setLayers(layers) {
    const list = layers == null ? null : Array.from(layers, String);
    if (list == null) this.removeAttribute("layers");
    else this.setAttribute("layers", list.join(","));
  }

  #call(f) {
    if (this.#mounted) f(this.#mounted);
    else this.#pending.push(f);
  }

  async #start() {
    const generation = ++this.#generation;
    this.#mounted = null;
    addStyle();
    const box = document.createElement("div");
    box.className = "twinscape-scene-root";
    this.replaceChildren(box);
    const scene = this.scene;
    if (!scene) {
      this.#fail(box, "NoScene", "Set the scene attribute to the id of a scene.");
      return;
    }
    let app;
    try {
      globalThis.__twinscapeEmbedding = true;
      // Each element runs its own copy of the app (one 3D engine per copy).
      app = await import(`${MODULE}?copy=${++copies}`);
      await app.default({ module_or_path: WASM });
    } catch (e) {
      if (generation === this.#generation) {
        this.#fail(box, "AppLoadFailed", `Could not load the Twinscape app from ${MODULE}: ${e}`);
      }
      return;
    }
    if (generation !== this.#generation) return;
    this.#mounted = app.mountScene(this, box, {
      server: this.server,
      scene,
      token: this.token,
      layers: this.layers,
    });
    for (const f of this.#pending.splice(0)) f(this.#mounted);
  }

  #fail(box, code, message) {
    const div = document.createElement("div");
    div.className = "viewer-error embed-error";
    div.setAttribute("role", "alert");
    div.dataset.code = code;
    div.textContent = message;
    box.replaceChildren(div);
    this.dispatchEvent(new CustomEvent("error", { detail: { code, message }, bubbles: true, composed: true }));
  }
}

if (!customElements.get("twinscape-scene")) {
  customElements.define("twinscape-scene", TwinscapeScene);
}
