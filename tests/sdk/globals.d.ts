// The generated fetch client names the DOM's global `BodyInit`; under Bun's types (no DOM lib) it is Bun.BodyInit.
type BodyInit = import("bun").BodyInit;
