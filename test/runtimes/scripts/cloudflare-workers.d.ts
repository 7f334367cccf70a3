/** The one name the runtimes tests take from workerd's `cloudflare:workers` module (no @cloudflare/workers-types here). */
declare module 'cloudflare:workers' {
  /** The Worker's bindings (variables, secrets, KV…), as the fetch handler's `env` holds them. */
  export const env: Record<string, unknown>;
}
