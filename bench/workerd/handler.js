// The end-to-end benchmark's handler in workerd: the same work as PiCloud's hello-world
// script and the bare Hono route (read the body, answer a small JSON).
export default {
  async fetch(req) {
    const body = await req.text();
    return Response.json({ hello: "world", received: body.length });
  },
};
