// wasm/imports.js: declares the functions unravel.wasm imports from JS
// (module "env"), so that emcc links them as imports. The real
// implementations live in wasm/unravel.mjs; these bodies are never used.
mergeInto(LibraryManager.library, {
  // Progress report from a long C call; return nonzero to cancel it.
  unr_js_progress: function (id, done, total) { return 0; },
});
