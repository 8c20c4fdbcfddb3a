import assert from "node:assert/strict";
import fc from "fast-check";
import { ipInRanges, parseCidr, parseIp } from "../lib/core/cidr.ts";

const V4_MAPPED = 0xffffn << 32n;

// --- parseIp ----------------------------------------------------------------

const IPS: [string, bigint][] = [
  ["0.0.0.0", V4_MAPPED],
  ["10.1.2.3", V4_MAPPED | 0x0a010203n],
  ["255.255.255.255", V4_MAPPED | 0xffffffffn],
  ["::", 0n],
  ["::1", 1n],
  ["1::", 1n << 112n],
  ["2001:db8::1", (0x2001n << 112n) | (0xdb8n << 96n) | 1n],
  ["2001:DB8:0:0:0:0:0:1", (0x2001n << 112n) | (0xdb8n << 96n) | 1n],
  ["1:2:3:4:5:6:7:8", 0x0001_0002_0003_0004_0005_0006_0007_0008n],
  ["1:2:3:4:5:6:7::", 0x0001_0002_0003_0004_0005_0006_0007_0000n],
  ["::2:3:4:5:6:7:8", 0x0000_0002_0003_0004_0005_0006_0007_0008n],
  ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", (1n << 128n) - 1n],
  ["::ffff:10.1.2.3", V4_MAPPED | 0x0a010203n],
  ["0:0:0:0:0:ffff:10.1.2.3", V4_MAPPED | 0x0a010203n],
  ["::ffff:a01:203", V4_MAPPED | 0x0a010203n],
  ["[::1]", 1n],
  ["[10.1.2.3]", V4_MAPPED | 0x0a010203n],
  ["fe80::1%eth0", (0xfe80n << 112n) | 1n],
];

for (const [text, value] of IPS) {
  Deno.test(`parseIp(${JSON.stringify(text)})`, () => {
    assert.equal(parseIp(text), value);
  });
}

const BAD_IPS = [
  "",
  "1.2.3",
  "1.2.3.4.5",
  "256.1.1.1",
  "1.2.3.-4",
  "1.2.3.4 ",
  "a.b.c.d",
  "1..2.3",
  "::1::2",
  ":::",
  "1:2:3:4:5:6:7",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7:8::",
  "12345::",
  "g::1",
  ":1:2:3:4:5:6:7",
  "1::2:3:4:5:6:7:8",
  "::ffff:1.2.3",
  "::ffff:256.1.1.1",
  "::1.2.3.4:1",
  "[::1",
  "localhost",
];

for (const text of BAD_IPS) {
  Deno.test(`parseIp(${JSON.stringify(text)}) is undefined`, () => {
    assert.equal(parseIp(text), undefined);
  });
}

Deno.test("parseIp: the full and the compressed form of an IPv6 address agree", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength: 8, maxLength: 8 }),
      (g) => {
        const full = g.map((x) => x.toString(16)).join(":");
        const expected = g.reduce((acc, x) => (acc << 16n) | BigInt(x), 0n);
        assert.equal(parseIp(full), expected);
        // Compress the longest run of zero groups, as RFC 5952 does.
        let best = [-1, 0];
        for (let i = 0; i < 8;) {
          let j = i;
          while (j < 8 && g[j] === 0) j++;
          if (j - i > best[1]) best = [i, j - i];
          i = j === i ? i + 1 : j;
        }
        if (best[0] >= 0) {
          const [start, len] = best;
          const head = g.slice(0, start).map((x) => x.toString(16)).join(":");
          const tail = g.slice(start + len).map((x) => x.toString(16)).join(":");
          assert.equal(parseIp(`${head}::${tail}`), expected);
        }
      },
    ),
  );
});

// --- parseCidr --------------------------------------------------------------

Deno.test("parseCidr: an IPv4 range keeps its text and masks its base", () => {
  const cidr = parseCidr(" 10.1.2.3/8 ");
  assert.ok(cidr);
  assert.equal(cidr.text, "10.1.2.3/8");
  assert.equal(cidr.base, V4_MAPPED | 0x0a000000n);
});

const BAD_CIDRS = [
  "",
  "10.0.0.0/33",
  "10.0.0.0/-1",
  "10.0.0.0/",
  "10.0.0.0/8/8",
  "10.0.0.0/x",
  "10.0.0.0/1000",
  "::/129",
  "1.2.3/24",
  "256.1.1.1",
  "::1::2/64",
];

for (const text of BAD_CIDRS) {
  Deno.test(`parseCidr(${JSON.stringify(text)}) is undefined`, () => {
    assert.equal(parseCidr(text), undefined);
  });
}

// --- ipInRanges -------------------------------------------------------------

/** Each row: ranges, addresses inside, addresses outside. */
const MEMBERSHIP: { ranges: string[]; inside: string[]; outside: string[] }[] = [
  {
    ranges: ["10.0.0.0/8"],
    inside: ["10.0.0.0", "10.1.2.3", "10.255.255.255", "::ffff:10.1.2.3", "[10.1.2.3]"],
    outside: ["11.0.0.0", "9.255.255.255", "::10.1.2.3", "::1", "not-an-ip"],
  },
  {
    ranges: ["192.168.1.7"],
    inside: ["192.168.1.7", "::ffff:192.168.1.7"],
    outside: ["192.168.1.8", "192.168.1.6"],
  },
  {
    ranges: ["172.16.0.0/12"],
    inside: ["172.16.0.1", "172.31.255.255"],
    outside: ["172.32.0.0", "172.15.255.255"],
  },
  {
    ranges: ["0.0.0.0/0"],
    inside: ["0.0.0.0", "1.2.3.4", "255.255.255.255", "::ffff:8.8.8.8"],
    outside: ["::1", "2001:db8::1"],
  },
  {
    ranges: ["::/0"],
    inside: ["::", "::1", "2001:db8::1", "1.2.3.4"],
    outside: ["1.2.3"],
  },
  {
    ranges: ["::1"],
    inside: ["::1", "[::1]", "0:0:0:0:0:0:0:1"],
    outside: ["::2", "127.0.0.1"],
  },
  {
    ranges: ["[::1]/128"],
    inside: ["::1"],
    outside: ["::"],
  },
  {
    ranges: ["2001:db8::/32"],
    inside: ["2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:DB8::42"],
    outside: ["2001:db9::", "2001:db7:ffff::"],
  },
  {
    ranges: ["fe80::/10"],
    inside: ["fe80::1", "febf::1", "fe80::1%eth0"],
    outside: ["fec0::1", "fe7f::1"],
  },
  {
    ranges: ["::ffff:10.0.0.0/104"],
    inside: ["10.9.9.9", "::ffff:10.9.9.9"],
    outside: ["11.0.0.0"],
  },
  {
    ranges: ["10.0.0.0/8", "::1"],
    inside: ["10.0.0.1", "::1"],
    outside: ["127.0.0.1"],
  },
];

for (const { ranges, inside, outside } of MEMBERSHIP) {
  Deno.test(`ipInRanges over ${ranges.join(", ")}`, () => {
    const parsed = ranges.map((r) => {
      const cidr = parseCidr(r);
      assert.ok(cidr, r);
      return cidr;
    });
    for (const ip of inside) assert.equal(ipInRanges(ip, parsed), true, `${ip} should be inside`);
    for (const ip of outside) {
      assert.equal(ipInRanges(ip, parsed), false, `${ip} should be outside`);
    }
  });
}

Deno.test("ipInRanges: no ranges trusts nobody", () => {
  assert.equal(ipInRanges("127.0.0.1", []), false);
});

Deno.test("ipInRanges: an IPv4 /n contains exactly the addresses sharing the first n bits", () => {
  const octets = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255));
  fc.assert(
    fc.property(octets, octets, fc.integer({ min: 0, max: 32 }), (a, b, n) => {
      const cidr = parseCidr(`${a.join(".")}/${n}`);
      assert.ok(cidr);
      const num = (o: number[]) => o.reduce((acc, x) => acc * 256 + x, 0);
      const shift = 32 - n;
      const same = Math.floor(num(a) / 2 ** shift) === Math.floor(num(b) / 2 ** shift);
      assert.equal(ipInRanges(b.join("."), [cidr]), same);
    }),
  );
});
