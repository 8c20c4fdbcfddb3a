Deno.serve({ port: 18080, hostname: "127.0.0.1", onListen() {} }, async (req) => {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: 18081 });
  c.setNoDelay(true);
  const enc = new TextEncoder();
  const writeAll = async (o: Uint8Array) => {
    let off = 0;
    while (off < o.length) off += await c.write(o.subarray(off));
  };
  await writeAll(enc.encode("POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"));
  const resp = c.read(new Uint8Array(4096));
  const reader = req.body!.getReader();
  const waits: number[] = [];
  const wwaits: number[] = [];
  for (;;) {
    let t = performance.now();
    const { done, value } = await reader.read();
    waits.push(performance.now() - t);
    if (done) break;
    const h = enc.encode(value.length.toString(16) + "\r\n");
    const o = new Uint8Array(h.length + value.length + 2);
    o.set(h);
    o.set(value, h.length);
    o[o.length - 2] = 13;
    o[o.length - 1] = 10;
    t = performance.now();
    await writeAll(o);
    wwaits.push(performance.now() - t);
  }
  await writeAll(enc.encode("0\r\n\r\n"));
  await resp;
  c.close();
  const hist = (a: number[]) => {
    const b = [0, 0, 0, 0, 0];
    for (const w of a) b[w < 0.1 ? 0 : w < 1 ? 1 : w < 10 ? 2 : w < 50 ? 3 : 4]++;
    return b.join("/");
  };
  return new Response(
    `reads <0.1/<1/<10/<50/>50ms: ${hist(waits)}  writes: ${hist(wwaits)}  sum ${
      Math.round(waits.reduce((a, b) => a + b, 0))
    }\n`,
  );
});
