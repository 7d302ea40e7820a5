// The package ships an Emscripten module factory without types. Shape read from its espeak-ng.js
// (an async factory resolving to the Module, whose eSpeakNGWorker class wraps the engine).
declare module '@echogarden/espeak-ng-emscripten' {
  const initialize: () => Promise<unknown>;
  export default initialize;
}
