// knockwatch's line scanner for replay: reads the netfilter LOG lines of the templates the
// JavaScript parser has learned (src/filters/knock-templates.ts) straight from the bytes of
// the log, and hands every other line back to the parser as it is.
//
// A template is a list of operations, written by src/filters/knock-lane.ts from the same
// pieces as the template's regex: the ISO stamp, fixed texts, the kernel stamp's width, the
// source address, the IP header fields, the transport header. A line matches when every
// operation does; it then means exactly what the regex and the parser make of it, and the
// differential tests (test/filters/knock-lane.test.ts) hold the two to that.
//
// Built with wasm/build.sh (clang, no libc): no allocation, no imports.

typedef unsigned char u8;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;

#define BUFFER_BYTES (1 << 20)
#define MAX_RECORDS 4096
#define STRIDE 16
#define TEMPLATE_BYTES 8192
#define MAX_TEMPLATES 8
#define MINUTE_KEY 17
#define MAX_ZONE 8

// The bytes of the log being read (with room past the end for 8-byte loads).
static u8 buffer[BUFFER_BYTES + 64];
// One record per line scanned (see the R_ offsets), and its stamp's fraction in milliseconds.
static i32 records[MAX_RECORDS * STRIDE];
static double fractions[MAX_RECORDS];
static u8 templates[TEMPLATE_BYTES];
static i32 templateStarts[MAX_TEMPLATES];
static i32 templateCount;
// The minute of the stamps being read (`2026-11-22T01:43:`) and their zone, as the parser
// last told it; valid = 0 until then, or when that minute has no time.
static u8 minuteKey[MINUTE_KEY];
static u8 zoneKey[MAX_ZONE];
static i32 zoneLength;
static i32 minuteValid;
static i32 lastEnd;

// KIND_MISSED: a kernel line of a template's envelope, in the minute being read, without
// ` DPT=` or `SRC=`: what the parser counts as missed (no LOG line), with its time.
enum { KIND_OTHER = 0, KIND_KNOCK = 1, KIND_MINUTE = 2, KIND_MISSED = 3 };
enum { R_KIND = 0, R_START = 1, R_END = 2, R_SRC_START = 3, R_SRC_END = 4, R_DPORT = 5, R_SPT = 6,
  R_FLAGS = 7, R_SECOND = 8, R_TEMPLATE = 9, R_IPV6 = 10, R_WORDS = 11, R_ZONE = 15 };
// OP_FAMILY (source start, 2 bytes; IPv6 or not): a full IPv6 source has a colon fifth, a
// dotted quad none. OP_MESSAGE: the envelope ends here (the message starts).
enum { OP_END = 0, OP_TEXT = 1, OP_ISO = 2, OP_KERNEL_STAMP = 3, OP_QUAD = 4, OP_IPV6 = 5,
  OP_DIGITS = 6, OP_IP4_FIELDS = 7, OP_IP6_FIELDS = 8, OP_TRANSPORT = 9, OP_FAMILY = 10, OP_MESSAGE = 11 };
// TcpFlag bits (src/net/tcp-flags.ts); TCP itself is bit 8 of R_FLAGS.
enum { FIN = 1, SYN = 2, RST = 4, PSH = 8, ACK = 16, URG = 32, TCP = 256 };

u8 *bufferAt(void) { return buffer; }
i32 *recordsAt(void) { return records; }
double *fractionsAt(void) { return fractions; }
u8 *templatesAt(void) { return templates; }
i32 *templateStartsAt(void) { return templateStarts; }
i32 bufferBytes(void) { return BUFFER_BYTES; }
i32 maxRecords(void) { return MAX_RECORDS; }
i32 stride(void) { return STRIDE; }
void setTemplateCount(i32 count) { templateCount = count; }
// Where the last scan stopped: the first byte of the first line it did not record.
i32 scanEnd(void) { return lastEnd; }

static u64 load64(const u8 *p) { u64 v; __builtin_memcpy(&v, p, 8); return v; }
static i32 isDigit(u8 c) { return c >= '0' && c <= '9'; }
static i32 hexValue(u8 c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The minute of the stamp at the start of line[0, end) becomes the one being read: the
// parser has read that stamp (valid: it has a time).
void setMinute(i32 start, i32 zoneStart, i32 end, i32 valid) {
  for (i32 i = 0; i < MINUTE_KEY; i++) minuteKey[i] = buffer[start + i];
  zoneLength = end - zoneStart;
  if (zoneLength > MAX_ZONE) { zoneLength = 0; valid = 0; }
  for (i32 i = 0; i < zoneLength; i++) zoneKey[i] = buffer[start + zoneStart + i];
  minuteValid = valid;
}

// `\d{1,max}` not followed by a digit: the end, or -1; the value in *value.
static i32 digits(const u8 *l, i32 p, i32 e, i32 max, i32 *value) {
  i32 s = p, v = 0;
  while (p < e && isDigit(l[p]) && p - s < max) v = v * 10 + (l[p++] - '0');
  if (p == s || (p < e && isDigit(l[p]))) return -1;
  *value = v;
  return p;
}

static i32 text(const u8 *l, i32 p, i32 e, const char *s) {
  for (; *s; s++, p++) if (p >= e || l[p] != (u8)*s) return -1;
  return p;
}

// Two hexadecimal digits, upper case (`upper`) or lower case.
static i32 hex2(const u8 *l, i32 p, i32 e, i32 upper) {
  if (p + 2 > e) return -1;
  for (i32 i = 0; i < 2; i++) {
    u8 c = l[p + i];
    if (!(isDigit(c) || (upper ? c >= 'A' && c <= 'F' : c >= 'a' && c <= 'f'))) return -1;
  }
  return p + 2;
}

// The stamp `YYYY-MM-DDTHH:MM:SS[.fraction]ZONE`, `length` characters: 1 when it has the
// minute and zone being read, 2 when it has another, -1 when it is no such stamp.
static i32 isoStamp(const u8 *l, i32 e, i32 length, i32 *r, double *fraction) {
  if (length > e || length < 20) return -1;
  i32 same = minuteValid && load64(l) == load64(minuteKey) && load64(l + 8) == load64(minuteKey + 8) && l[16] == minuteKey[16];
  // The key was a stamp of this shape: only another minute is checked for it.
  for (i32 i = 0; i < MINUTE_KEY && !same; i++) {
    u8 c = l[i];
    if (i == 4 || i == 7 ? c != '-' : i == 10 ? c != 'T' : i == 13 || i == 16 ? c != ':' : !isDigit(c)) return -1;
  }
  if (l[17] < '0' || l[17] > '5' || !isDigit(l[18])) return -1;
  r[R_SECOND] = (l[17] - '0') * 10 + (l[18] - '0');
  // As syslog-time.ts's fractionMs: the same additions, in the same order.
  double f = 0, scale = 100;
  i32 p = 19;
  if (l[19] == '.') {
    for (p = 20; p < length && isDigit(l[p]); p++, scale /= 10) f += (l[p] - '0') * scale;
  }
  *fraction = f;
  r[R_ZONE] = p;
  if (length - p != zoneLength) return 2;
  for (i32 i = 0; i < zoneLength; i++) if (l[p + i] != zoneKey[i]) return 2;
  return same ? 1 : 2;
}

// Matches line l[0, e) against the template at op: KIND_KNOCK or KIND_MINUTE with the
// record filled in, or -1.
// *message: where the message starts once the stamp (of the minute being read) and the
// envelope have matched, else -1.
static i32 matchLine(const u8 *l, i32 e, const u8 *op, i32 *r, double *fraction, i32 *message) {
  i32 p = 0, v, kind = KIND_KNOCK;
  *message = -1;
  for (;;) {
    switch (*op++) {
      case OP_END:
        while (p < e && l[p] == ' ') p++;
        return p == e ? kind : -1;
      case OP_TEXT: {
        i32 n = op[0] | (op[1] << 8);
        op += 2;
        if (p + n > e) return -1;
        i32 i = 0;
        for (; i + 8 <= n; i += 8) if (load64(l + p + i) != load64(op + i)) return -1;
        for (; i < n; i++) if (l[p + i] != op[i]) return -1;
        p += n;
        op += n;
        break;
      }
      case OP_ISO: {
        i32 length = *op++;
        if (p != 0) return -1;
        kind = isoStamp(l, e, length, r, fraction);
        if (kind < 0) return -1;
        p = length;
        break;
      }
      case OP_KERNEL_STAMP: {
        // `[ *\d{1,10}\.\d{1,9}\] `, `width` characters.
        i32 width = *op++;
        if (p + width > e || l[p] != '[' || l[p + width - 2] != ']' || l[p + width - 1] != ' ') return -1;
        i32 q = p + 1;
        while (l[q] == ' ') q++;
        i32 s = q;
        while (isDigit(l[q])) q++;
        if (q == s || q - s > 10 || l[q] != '.') return -1;
        s = ++q;
        while (isDigit(l[q])) q++;
        if (q == s || q - s > 9 || q != p + width - 2) return -1;
        p += width;
        break;
      }
      case OP_QUAD: {
        // Four octets 0-255 without leading zeros.
        r[R_SRC_START] = p;
        u32 address = 0;
        for (i32 k = 0; k < 4; k++) {
          if (k > 0) {
            if (p >= e || l[p] != '.') return -1;
            p++;
          }
          i32 s = p, x = 0;
          while (p < e && isDigit(l[p]) && p - s < 3) x = x * 10 + (l[p++] - '0');
          if (p == s || (p - s > 1 && l[s] == '0') || x > 255) return -1;
          address = (address << 8) | (u32)x;
        }
        r[R_SRC_END] = p;
        r[R_IPV6] = 0;
        r[R_WORDS] = 0;
        r[R_WORDS + 1] = 0;
        r[R_WORDS + 2] = 0;
        r[R_WORDS + 3] = (i32)address;
        break;
      }
      case OP_IPV6: {
        // Eight groups of four hexadecimal digits, either case.
        r[R_SRC_START] = p;
        if (p + 39 > e) return -1;
        for (i32 g = 0; g < 8; g++) {
          u32 x = 0;
          for (i32 k = 0; k < 4; k++) {
            i32 h = hexValue(l[p++]);
            if (h < 0) return -1;
            x = (x << 4) | (u32)h;
          }
          if (g < 7 && l[p++] != ':') return -1;
          if (g & 1) r[R_WORDS + g / 2] |= (i32)x;
          else r[R_WORDS + g / 2] = (i32)(x << 16);
        }
        r[R_SRC_END] = p;
        r[R_IPV6] = 1;
        break;
      }
      case OP_FAMILY: {
        i32 at = (op[0] | (op[1] << 8)) + 4;
        i32 ipv6 = op[2];
        op += 3;
        if ((at < e && l[at] == ':') != ipv6) return -1;
        break;
      }
      case OP_MESSAGE:
        if (kind == KIND_KNOCK) *message = p;
        break;
      case OP_DIGITS:
        p = digits(l, p, e, *op++, &v);
        if (p < 0) return -1;
        break;
      case OP_IP4_FIELDS:
        // ` TOS=0x[0-9A-F]{2} PREC=0x[0-9A-F]{2} TTL=\d{1,3} ID=\d{1,5}(?: (?:CE|DF|MF)){0,3}`
        if ((p = text(l, p, e, " TOS=0x")) < 0 || (p = hex2(l, p, e, 1)) < 0 || (p = text(l, p, e, " PREC=0x")) < 0
          || (p = hex2(l, p, e, 1)) < 0 || (p = text(l, p, e, " TTL=")) < 0 || (p = digits(l, p, e, 3, &v)) < 0
          || (p = text(l, p, e, " ID=")) < 0 || (p = digits(l, p, e, 5, &v)) < 0) return -1;
        for (i32 k = 0; k < 3 && p + 3 <= e && l[p] == ' '; k++) {
          u8 a = l[p + 1], b = l[p + 2];
          if (!((a == 'C' && b == 'E') || (a == 'D' && b == 'F') || (a == 'M' && b == 'F'))) break;
          p += 3;
        }
        break;
      case OP_IP6_FIELDS:
        // ` TC=\d{1,3} HOPLIMIT=\d{1,3} FLOWLBL=\d{1,7}`
        if ((p = text(l, p, e, " TC=")) < 0 || (p = digits(l, p, e, 3, &v)) < 0 || (p = text(l, p, e, " HOPLIMIT=")) < 0
          || (p = digits(l, p, e, 3, &v)) < 0 || (p = text(l, p, e, " FLOWLBL=")) < 0 || (p = digits(l, p, e, 7, &v)) < 0) return -1;
        break;
      case OP_TRANSPORT: {
        // ` PROTO=` then `TCP SPT=\d{1,5} DPT=\d{1,5} WINDOW=\d{1,5} RES=0x[0-9a-f]{2}
        // (?:(?:CWR|ECE|URG|ACK|PSH|RST|SYN|FIN) ){0,8}URGP=\d{1,5}` or
        // `UDP SPT=\d{1,5} DPT=\d{1,5} LEN=\d{1,5}`
        i32 spt, dport, flags = 0;
        if ((p = text(l, p, e, " PROTO=")) < 0) return -1;
        i32 tcp = p + 3 <= e && l[p] == 'T' && l[p + 1] == 'C' && l[p + 2] == 'P';
        i32 udp = p + 3 <= e && l[p] == 'U' && l[p + 1] == 'D' && l[p + 2] == 'P';
        if (!tcp && !udp) return -1;
        p += 3;
        if ((p = text(l, p, e, " SPT=")) < 0 || (p = digits(l, p, e, 5, &spt)) < 0 || (p = text(l, p, e, " DPT=")) < 0
          || (p = digits(l, p, e, 5, &dport)) < 0) return -1;
        if (tcp) {
          if ((p = text(l, p, e, " WINDOW=")) < 0 || (p = digits(l, p, e, 5, &v)) < 0 || (p = text(l, p, e, " RES=0x")) < 0
            || (p = hex2(l, p, e, 0)) < 0 || (p = text(l, p, e, " ")) < 0) return -1;
          for (i32 k = 0;; k++) {
            if (p + 5 <= e && l[p] == 'U' && l[p + 1] == 'R' && l[p + 2] == 'G' && l[p + 3] == 'P' && l[p + 4] == '=') break;
            if (k == 8 || p + 4 > e || l[p + 3] != ' ') return -1;
            u8 a = l[p], b = l[p + 1], c = l[p + 2];
            if (a == 'C' && b == 'W' && c == 'R') {}
            else if (a == 'E' && b == 'C' && c == 'E') {}
            else if (a == 'U' && b == 'R' && c == 'G') flags |= URG;
            else if (a == 'A' && b == 'C' && c == 'K') flags |= ACK;
            else if (a == 'P' && b == 'S' && c == 'H') flags |= PSH;
            else if (a == 'R' && b == 'S' && c == 'T') flags |= RST;
            else if (a == 'S' && b == 'Y' && c == 'N') flags |= SYN;
            else if (a == 'F' && b == 'I' && c == 'N') flags |= FIN;
            else return -1;
            p += 4;
          }
          if ((p = digits(l, p + 5, e, 5, &v)) < 0) return -1;
          flags |= TCP;
        } else if ((p = text(l, p, e, " LEN=")) < 0 || (p = digits(l, p, e, 5, &v)) < 0) return -1;
        // Ports past 65535 are for the parser to refuse.
        if (spt > 65535 || dport > 65535) return -1;
        r[R_DPORT] = dport;
        r[R_SPT] = spt;
        r[R_FLAGS] = flags;
        break;
      }
      default:
        return -1;
    }
  }
}

// Whether line l[0, e), whose message starts at `message`, holds ` DPT=` (anywhere: the
// parser's port search reads the whole line) or `SRC=` in its message.
static i32 hasLogKey(const u8 *l, i32 e, i32 message) {
  for (i32 p = 0; p + 4 <= e; p++) {
    if (l[p + 3] != '=') continue;
    if (l[p] == 'D' && l[p + 1] == 'P' && l[p + 2] == 'T' && p > 0 && l[p - 1] == ' ') return 1;
    if (l[p] == 'S' && l[p + 1] == 'R' && l[p + 2] == 'C' && p >= message) return 1;
  }
  return 0;
}

// The next newline at or after p in buffer[0, length), or length.
static i32 newlineFrom(i32 p, i32 length) {
  for (;;) {
    if (p + 8 <= length) {
      u64 v = load64(buffer + p) ^ 0x0a0a0a0a0a0a0a0aULL;
      u64 zero = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
      if (zero) return p + (__builtin_ctzll(zero) >> 3);
      p += 8;
    } else {
      while (p < length && buffer[p] != '\n') p++;
      return p;
    }
  }
}

// Records the whole lines of buffer[start, length), at most `limit` (up to MAX_RECORDS), up to and including
// the first of another minute (KIND_MINUTE: the parser reads it and calls setMinute).
// Returns the number of records; scanEnd() is where the next line starts.
i32 scan(i32 start, i32 length, i32 limit) {
  i32 n = 0, p = start;
  if (limit > MAX_RECORDS) limit = MAX_RECORDS;
  while (n < limit) {
    i32 s = p;
    i32 newline = newlineFrom(p, length);
    if (newline >= length) break;
    i32 e = newline > s && buffer[newline - 1] == '\r' ? newline - 1 : newline;
    p = newline + 1;
    i32 *r = records + n * STRIDE;
    r[R_KIND] = KIND_OTHER;
    r[R_START] = s;
    r[R_END] = e;
    n++;
    // The message's start and the stamp's second and fraction, from the first template whose
    // stamp and envelope the line has.
    i32 message = -1, second = 0;
    double fraction = 0;
    for (i32 t = 0; t < templateCount; t++) {
      i32 at;
      i32 kind = matchLine(buffer + s, e - s, templates + templateStarts[t], r, fractions + n - 1, &at);
      if (at >= 0 && message < 0) {
        message = at;
        second = r[R_SECOND];
        fraction = fractions[n - 1];
      }
      if (kind < 0) continue;
      r[R_KIND] = kind;
      r[R_TEMPLATE] = t;
      r[R_SRC_START] += s;
      r[R_SRC_END] += s;
      break;
    }
    if (r[R_KIND] == KIND_OTHER && message >= 0 && !hasLogKey(buffer + s, e - s, message)) {
      r[R_KIND] = KIND_MISSED;
      r[R_SECOND] = second;
      fractions[n - 1] = fraction;
    }
    if (r[R_KIND] == KIND_MINUTE) break;
  }
  lastEnd = p;
  return n;
}
