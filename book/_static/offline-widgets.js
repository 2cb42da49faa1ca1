/*
 * Load Jupyter-widget modules from this book, never from a CDN.
 *
 * Runs after require.js and before the @jupyter-widgets/html-manager embed bundle renders the
 * saved widget state (it renders on window "load"). RequireJS resolves module paths against
 * baseUrl, which is set to the book's root (found from this script's own URL, so it works on
 * pages in sub-folders and when the book is served from any prefix). nglview's module is copied
 * at build time by book/_ext/offline_widgets.py; widget modules not shipped resolve under
 * _static/vendor/ (the embed script's data-jupyter-widgets-cdn) and fail there visibly.
 */
(function () {
  "use strict";
  var self = document.currentScript;
  if (!self || !self.src) {
    console.error("offline-widgets.js: cannot locate itself; widget modules will not load.");
    return;
  }
  var root = self.src.replace(/_static\/offline-widgets\.js(\?.*)?$/, "");
  if (typeof window.requirejs === "undefined") {
    console.error("offline-widgets.js: require.js is not loaded; the 3D views cannot be shown.");
    return;
  }
  window.requirejs.config({
    baseUrl: root,
    paths: {
      "nglview-js-widgets": "_static/vendor/nglview-js-widgets/index",
      // These modules are bundled in embed-amd.js; the paths only set the folder that webpack
      // takes as public path for the bundle's assets (the Font Awesome fonts shipped beside it).
      "@jupyter-widgets/base": "_static/vendor/jupyter-widgets/base",
      "@jupyter-widgets/base7": "_static/vendor/jupyter-widgets/base7",
      "@jupyter-widgets/controls": "_static/vendor/jupyter-widgets/controls",
      "@jupyter-widgets/controls7": "_static/vendor/jupyter-widgets/controls7",
      "@jupyter-widgets/html-manager": "_static/vendor/jupyter-widgets/html-manager",
      "@jupyter-widgets/html-manager/dist": "_static/vendor/jupyter-widgets"
    }
  });
})();
