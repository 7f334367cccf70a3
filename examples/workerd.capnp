# examples/worker.ts on workerd, Cloudflare's Workers runtime (the npm package `workerd`).
# Bundle the Worker next to this file first (examples/worker-bundle.ts writes worker.js),
# then: npx workerd serve workerd.capnp   (listens on 127.0.0.1:8787; --socket-addr http=HOST:PORT
# to change it). Date and flags as in wrangler.toml.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .worker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8787", http = (), service = "main") ],
);

const worker :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed "worker.js") ],
  compatibilityDate = "2025-09-15",
  compatibilityFlags = ["nodejs_compat"],
);
