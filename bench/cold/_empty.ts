/**
 * An empty script: the cold-start benchmark times its `deno run` from spawn to exit, the cost of
 * the runtime itself before any module of ours.
 *
 * @module
 */

export {};
