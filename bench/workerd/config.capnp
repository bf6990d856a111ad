# Minimal workerd config for the end-to-end benchmark (bench/e2e.ts). The listening
# address is overridden on the command line: --socket-addr http=127.0.0.1:<port>.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [ (name = "main", worker = .helloWorker) ],
  sockets = [ (name = "http", address = "127.0.0.1:8789", http = (), service = "main") ],
);

const helloWorker :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "handler.js") ],
  compatibilityDate = "2025-09-01",
);
