/*
 * A compiled load generator for the chat benchmark (issue 15): the fan-out,
 * scale and idle-crowd scenarios of bench/loadgen.py, in one thread with
 * epoll and non-blocking sockets, so that the generator costs less CPU than
 * the servers it measures.  bench/cloadgen.py builds it with the system C
 * compiler; bench/run.py drives it (--loadgen c).
 *
 * What it does, as bench/loadgen.py does:
 *   - logs in --clients clients ("s0".."s{S-1}" are the senders, then
 *     "u0"...), at most --concurrency connecting at once: the name prompt
 *     (">>> name: ..."), the name, "=== Welcome to X, NAME!", then
 *     "=== Users online (N): ..." (logged in; N - 1 fewer join notices to
 *     wait for than there are clients);
 *   - settles: waits until every logged-in client has read a join or leave
 *     notice for each client that logged in after it;
 *   - sends: each sender sends numbered chat lines "SEQ SENT_NS PAD CRC"
 *     (SEQ zero-padded to 8 digits, SENT_NS the CLOCK_MONOTONIC time in ns
 *     since the generator started, zero-padded to 13 digits, so that all
 *     lines of a sender have one length; CRC the CRC-32 of "NAME SEQ
 *     SENT_NS PAD" as 8 hex digits, as zlib.crc32), at --rate lines/s each (an open
 *     loop that catches up on its schedule) or, with --rate 0, keeping at
 *     most --window lines not yet read by one receiver (the acknowledger);
 *     for --duration seconds, at most --lines lines each (0: no limit);
 *   - checks every line every client reads: a chat line whose text is not
 *     four fields or whose CRC does not match, or a line that is not UTF-8
 *     or not a server line, is corrupted; a sequence number seen twice is a
 *     duplicate, a gap is remembered (a late line fills it: reordered);
 *     latency (read time - SENT_NS) goes into a histogram with 6
 *     significant bits (1.6 %), as loadgen.bucket does;
 *   - drains: waits until every client has every line of every other
 *     sender, or --drain-timeout; what is still missing is lost.
 * Counting receivers.  Copying every delivered byte out of the kernel was
 * most of this generator's CPU (perf: 71 % in the kernel, mostly TCP receive
 * over loopback), more than the C epoll server spends sending them.  So once
 * sending starts, only a sample of receivers reads and checks every line as
 * above: the senders, the acknowledger and every --check-every-th receiver
 * (default 8; everyone when fewer than --check-all-below receivers, default
 * 64, logged in, or with more than 10 senders, whose names differ in
 * length).  The latency histogram comes from that sample only.  The others
 * are counting receivers: they read with recv(MSG_TRUNC), which discards
 * what arrived without copying it, and only add up the bytes.  Every chat
 * line has one length (fixed-width fields, senders' names of one length,
 * the line ending the receiver saw at login), so each must end with exactly
 * (lines sent by all senders) x (that length) bytes; a receiver that does
 * not is an error (countMismatch, with an error line), its shortfall counted
 * as lost, its excess as duplicated, a remainder that is not a whole line as
 * one corrupted.  A count cannot see a loss and a duplicate that cancel out,
 * reordering, or a changed byte: the checking sample does.  With --rcvlowat
 * the counting receivers' sockets get that SO_RCVLOWAT while sending (fewer
 * wake-ups), and 1 again before the drain.
 *
 * Each distinct chat line is checked once: the bytes of a line that passed
 * are kept per sender and sequence number, and a copy equal to them byte for
 * byte is not checked again (as loadgen.py caches verdicts by the line's
 * bytes); a different copy is checked on its own.  A receiver first compares
 * a line with the next one it expects from that sender, which is what it
 * gets almost always (this halved the generator's own CPU per line).
 *
 * The grammar is the subset of chatwire/lines.py these
 * scenarios meet: chat lines, join and leave notices, errors ("!!! "), lines
 * marked with a room ("#ROOM LINE") or as history ("[... id N] LINE", counted
 * apart, never as deliveries); any other kind is recognised by its sigil
 * alone.  Names are checked against lines.py's rule with ASCII whitespace.
 *
 * Connections close with SO_LINGER 0 (no TIME_WAIT) and can be spread over
 * --sources loopback addresses from --source-base (127.0.0.2, 127.0.0.3,
 * ...: bind before connect, the port chosen at connect time), so that many
 * thousands of connections do not run out of ephemeral ports.
 *
 * Output: one JSON object per line on stdout, after the login and settle
 * phases ("phase": "settle") and at the end ("phase": "result").  With
 * --wait-go it reads a line from stdin between settling and sending (the
 * caller measures the server meanwhile).  CPU seconds (getrusage) are
 * reported for each phase.  alarm(--time-limit) bounds the whole run.
 *
 * TLS (issue 25): with --tls every client speaks TLS through libssl (the
 * system's OpenSSL, its default versions and ciphers, the server's
 * certificate not verified), non-blocking: the handshake is driven right
 * after connecting, then by SSL_read and SSL_write; counting receivers
 * decrypt what arrives into a scratch buffer and add up the plaintext bytes
 * (nothing can be discarded unread under TLS).  SSL_MODE_RELEASE_BUFFERS
 * keeps 10,000 idle clients small.  The settle line names the protocol
 * version and cipher the first client got ("tls").
 *
 * Build: cc -O2 -std=c11 -Wall -Wextra -Werror -o cloadgen cloadgen.c -lm \
 *            -lssl -lcrypto
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define READ_SIZE 65536
#define MAX_PART (4 << 20)  /* longest unfinished line kept (a user list of
                               20,000 names is about 160 KB) */
#define RING 1024           /* checked lines kept per sender */
#define CACHED 192          /* longest line kept as checked */
#define MAX_EVENTS 1024
#define HIST (64 + 64 * 32) /* latency buckets, see bucket() */
#define MAX_SENDERS 64
#define MAX_ERRORS 20
#define SEQ_DIGITS 8   /* a sequence number, zero-padded: at most 10^8 lines */
#define SENT_DIGITS 13 /* ns since the generator started: at most 10^4 s */
#define MAX_COUNTING_SENDERS 10 /* "s0".."s9": names of one length */

enum { MESSAGE, CORRUPT, NOTICE, ERROR, OTHER, HISTORY };

typedef struct {
    long next, unique;
    long *missing;
    size_t nmissing, capmissing;
} seen_t;

typedef struct {
    int fd;
    int state; /* -1 not started, 0 connecting or prompted, 1 name sent,
                  2 welcomed, 3 logged in, 4 gone */
    int connected, writing, failed, settled;
    int sender; /* index in senders, or -1 */
    int counting; /* a counting receiver (see "Counting receivers") */
    int crlf;     /* the last line read ended in "\r\n" */
    long bytes;   /* counting: bytes read (and discarded) since go */
    long expect_joins, joins;
    char name[24];
    size_t namelen;
    char *part; /* the unfinished line, part[0, partlen) */
    size_t partlen, partcap;
    char *out;
    size_t outoff, outlen, outcap;
    seen_t *seen; /* per sender, once a chat line arrives */
    SSL *ssl;     /* with --tls, once connected */
} client_t;

typedef struct {
    long seq, sent;
    unsigned len;
    char bytes[CACHED];
} cached_t;

typedef struct {
    int client;
    long seq;
    cached_t *ring;
} sender_t;

/* Options. */
static const char *host = "127.0.0.1";
static int port, nclients = 5, nsenders = 2, concurrency = 500, nsources = 0;
static const char *source_base = "127.0.0.2";
static double login_timeout = 60, settle_timeout = 60, duration = 5, rate = 0;
static double drain_timeout = 10;
static long window_lines = 100, max_lines = 0;
static int pad = 20, wait_go = 0, time_limit = 0;
static int check_every = 8, check_all_below = 64, rcvlowat = 0;
static int use_tls = 0;
static SSL_CTX *tls;
static char scratch[READ_SIZE]; /* what a counting TLS receiver decrypts */

static client_t *clients;
static sender_t senders[MAX_SENDERS];
static int epfd, acker = -1;
static char *readbuf; /* an unfinished line, then what one recv read */
static size_t readcap;
static uint32_t crctab[256];
static long hist[HIST];
static long delivered, duplicated, reordered, corrupted, notices, other;
static long history_lines, errcount, failed_logins, closed_count, unknown;
static long checked_deliveries, counted_deliveries, count_mismatch;
static int ncounting, nchecking;
static int64_t base_ns; /* CLOCK_MONOTONIC at start: times are relative */
static char errors[MAX_ERRORS][160];
static int nerrors;
static int started, inflight, logged_in;
static char padding[4096];

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - base_ns;
}

static double now_s(void) { return (double)now_ns() / 1e9; }

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 +
           (double)u.ru_stime.tv_sec + (double)u.ru_stime.tv_usec / 1e6;
}

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crctab[i] = c;
    }
}

/* zlib.crc32, continued from crc (start with 0). */
static uint32_t crc32_update(uint32_t crc, const char *p, size_t n) {
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = crctab[(crc ^ (unsigned char)p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static void error_line(const client_t *c, const char *text, size_t n) {
    errcount++;
    if (nerrors < MAX_ERRORS) {
        if (n > 120)
            n = 120;
        snprintf(errors[nerrors++], sizeof errors[0], "%s: %.*s", c->name, (int)n,
                 text);
    }
}

static int utf8_valid(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        i += len;
    }
    return 1;
}

/* A byte a name (or a room after its '#') may hold: lines.py's
 * [^\s<>*!,], with ASCII whitespace. */
static int name_byte(unsigned char c) {
    return !(c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) ||
             c == '<' || c == '>' || c == '*' || c == '!' || c == ',');
}

static size_t name_span(const char *p, size_t n) {
    size_t i = 0;
    while (i < n && name_byte((unsigned char)p[i]))
        i++;
    return i;
}

static int starts(const char *p, size_t n, const char *prefix) {
    size_t k = strlen(prefix);
    return n >= k && memcmp(p, prefix, k) == 0;
}

/* "NAME has joined" / "NAME has left[ (REASON)]" after the sigil. */
static int notice_rest(const char *p, size_t n, int joined) {
    size_t k = name_span(p, n);
    if (k == 0)
        return 0;
    p += k;
    n -= k;
    if (joined)
        return n == 11 && memcmp(p, " has joined", 11) == 0;
    if (!starts(p, n, " has left"))
        return 0;
    p += 9;
    n -= 9;
    return n == 0 || (n >= 3 && p[0] == ' ' && p[1] == '(' && p[n - 1] == ')');
}

/* "[YYYY-MM-DD HH:MM:SSZ id N] " */
static size_t history_mark(const char *p, size_t n) {
    static const char shape[] = "[9999-99-99 99:99:99Z id "; /* 9: a digit */
    size_t k = sizeof shape - 1, i;
    if (n < k + 3)
        return 0;
    for (i = 0; i < k; i++) {
        if (shape[i] == '9' ? (p[i] < '0' || p[i] > '9') : p[i] != shape[i])
            return 0;
    }
    if (p[i] < '0' || p[i] > '9')
        return 0;
    while (i < n && p[i] >= '0' && p[i] <= '9')
        i++;
    return i + 1 < n && p[i] == ']' && p[i + 1] == ' ' ? i + 2 : 0;
}

static size_t bucket_index(long us) {
    if (us < 0)
        us = 0;
    int bits = 64 - __builtin_clzl((unsigned long)us | 1);
    int shift = bits - 6;
    if (shift <= 0)
        return (size_t)us;
    return 64 + (size_t)(shift - 1) * 32 + (size_t)((us >> shift) - 32);
}

static long bucket_key(size_t i) {
    if (i < 64)
        return (long)i;
    size_t shift = (i - 64) / 32 + 1;
    return (long)(((i - 64) % 32 + 32) << shift);
}

static double percentile(double fraction) {
    long total = 0, seen = 0;
    for (size_t i = 0; i < HIST; i++)
        total += hist[i];
    if (total == 0)
        return -1;
    double rank = fraction * (double)total;
    size_t last = 0;
    for (size_t i = 0; i < HIST; i++) {
        if (hist[i] == 0)
            continue;
        last = i;
        seen += hist[i];
        if ((double)seen >= rank)
            return (double)bucket_key(i) / 1000;
    }
    return (double)bucket_key(last) / 1000;
}

static int sender_index(const char *name, size_t n) {
    /* Senders are "s0".."s{S-1}". */
    if (n < 2 || name[0] != 's')
        return -1;
    long v = 0;
    for (size_t i = 1; i < n; i++) {
        if (name[i] < '0' || name[i] > '9' || (i == 1 && name[i] == '0' && n > 2))
            return -1;
        v = v * 10 + (name[i] - '0');
        if (v >= nsenders)
            return -1;
    }
    return (int)v;
}

static int parse_long(const char *p, size_t n, long *out) {
    if (n == 0 || n > 19)
        return 0;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return 1;
}

static void remember_missing(seen_t *s, long seq) {
    if (s->nmissing == s->capmissing) {
        size_t cap = s->capmissing ? s->capmissing * 2 : 16;
        long *m = realloc(s->missing, cap * sizeof *m);
        if (m == NULL) {
            perror("realloc");
            exit(1);
        }
        s->missing = m;
        s->capmissing = cap;
    }
    s->missing[s->nmissing++] = seq;
}

static void count_message(client_t *c, int sender, long seq, long sent_ns,
                          int64_t now) {
    delivered++;
    hist[bucket_index((long)((now - sent_ns) / 1000))]++;
    if (sender < 0) {
        unknown++;
        return;
    }
    if (c->seen == NULL) {
        c->seen = calloc((size_t)nsenders, sizeof *c->seen);
        if (c->seen == NULL) {
            perror("calloc");
            exit(1);
        }
    }
    seen_t *s = &c->seen[sender];
    if (seq == s->next) {
        s->next = seq + 1;
        s->unique++;
    } else if (seq > s->next) {
        for (long gap = s->next; gap < seq; gap++)
            remember_missing(s, gap);
        s->next = seq + 1;
        s->unique++;
    } else {
        for (size_t i = 0; i < s->nmissing; i++) {
            if (s->missing[i] == seq) {
                s->missing[i] = s->missing[--s->nmissing];
                s->unique++;
                reordered++;
                return;
            }
        }
        duplicated++;
    }
}

/* A chat line "<NAME> SEQ SENT PAD CRC" starting at body (after any room
 * mark); line[0, n) is the whole line, for the cache. */
static int check_message(client_t *c, const char *line, size_t n, const char *p,
                         size_t m, int64_t now) {
    size_t k = name_span(p + 1, m - 1);
    if (k == 0 || 1 + k + 2 > m || p[1 + k] != '>' || p[2 + k] != ' ')
        return 0; /* not a chat line: the caller goes on */
    const char *name = p + 1, *text = p + k + 3;
    int expected_sender = sender_index(name, k);
    if (expected_sender >= 0 && c->seen != NULL && n <= CACHED) {
        /* Most often this is the next line of that sender, already checked
         * for an earlier receiver: the same bytes need no second look. */
        long next = c->seen[expected_sender].next;
        cached_t *slot = &senders[expected_sender].ring[next % RING];
        if (slot->seq == next && slot->len == n && memcmp(slot->bytes, line, n) == 0) {
            count_message(c, expected_sender, next, slot->sent, now);
            return 1;
        }
    }
    size_t tlen = m - (k + 3);
    const char *field[4];
    size_t flen[4], nf = 0, start = 0;
    for (size_t i = 0; i <= tlen; i++) {
        if (i == tlen || text[i] == ' ') {
            if (nf == 4) {
                corrupted++;
                return 1;
            }
            field[nf] = text + start;
            flen[nf++] = i - start;
            start = i + 1;
        }
    }
    long seq, sent;
    if (nf != 4 || !parse_long(field[0], flen[0], &seq) ||
        !parse_long(field[1], flen[1], &sent)) {
        corrupted++;
        return 1;
    }
    int sender = expected_sender;
    cached_t *slot = NULL;
    if (sender >= 0 && n <= CACHED) {
        slot = &senders[sender].ring[seq % RING];
        if (slot->seq == seq && slot->len == n && memcmp(slot->bytes, line, n) == 0) {
            count_message(c, sender, seq, slot->sent, now);
            return 1;
        }
    }
    if (!utf8_valid((const unsigned char *)line, n) || flen[3] != 8) {
        corrupted++;
        return 1;
    }
    uint32_t crc = crc32_update(0, name, k);
    crc = crc32_update(crc, " ", 1);
    crc = crc32_update(crc, text, (size_t)(field[3] - 1 - text));
    char hex[9];
    snprintf(hex, sizeof hex, "%08x", crc);
    if (memcmp(hex, field[3], 8) != 0) {
        corrupted++;
        return 1;
    }
    if (slot != NULL) {
        slot->seq = seq;
        slot->sent = sent;
        slot->len = (unsigned)n;
        memcpy(slot->bytes, line, n);
    }
    count_message(c, sender, seq, sent, now);
    return 1;
}

static void line_logged_in(client_t *c, const char *line, size_t n, int64_t now) {
    const char *p = line;
    size_t m = n;
    if (m > 0 && p[0] == '#') {
        size_t k = name_span(p + 1, m - 1);
        if (k > 0 && 1 + k < m && p[1 + k] == ' ') {
            p += k + 2;
            m -= k + 2;
        }
    }
    if (m > 0 && p[0] == '[') {
        if (history_mark(p, m) && utf8_valid((const unsigned char *)line, n))
            history_lines++;
        else
            corrupted++;
        return;
    }
    if (m > 1 && p[0] == '<' && check_message(c, line, n, p, m, now))
        return;
    if (!utf8_valid((const unsigned char *)line, n)) {
        corrupted++;
        return;
    }
    if ((starts(p, m, "--> ") && notice_rest(p + 4, m - 4, 1)) ||
        (starts(p, m, "<-- ") && notice_rest(p + 4, m - 4, 0))) {
        notices++;
        c->joins++;
        return;
    }
    if (starts(p, m, "!!! ")) {
        error_line(c, p + 4, m - 4);
        return;
    }
    if (starts(p, m, "* ") || (m > 0 && p[0] == '*') || starts(p, m, "-> *") ||
        starts(p, m, "--- ") || starts(p, m, "=== ") || starts(p, m, ">>> ") ||
        starts(p, m, "-!- ")) {
        other++;
        return;
    }
    corrupted++;
}

static void client_write(client_t *c, const char *data, size_t n);

static void finish_login(client_t *c, int ok) {
    if (c->state == 3 || c->failed)
        return;
    inflight--;
    if (ok) {
        c->state = 3;
        logged_in++;
    } else {
        c->failed = 1;
        failed_logins++;
    }
}

static void line_login(client_t *c, const char *line, size_t n) {
    if (!utf8_valid((const unsigned char *)line, n)) {
        corrupted++;
        return;
    }
    if (c->state == 0 && starts(line, n, ">>> ")) {
        size_t i = 4;
        while (i < n && line[i] >= 'a' && line[i] <= 'z')
            i++;
        if (i > 4 && i < n && line[i] == ':') {
            char buf[32];
            memcpy(buf, c->name, c->namelen);
            buf[c->namelen] = '\n';
            client_write(c, buf, c->namelen + 1);
            c->state = 1;
        }
    } else if (starts(line, n, "=== Welcome to ") && n > 0 && line[n - 1] == '!') {
        c->state = 2;
    } else if (starts(line, n, "--> ") && notice_rest(line + 4, n - 4, 1)) {
        c->joins++;
    } else if (c->state == 2 && starts(line, n, "=== Users online (")) {
        long count = 0;
        size_t i = 18;
        while (i < n && line[i] >= '0' && line[i] <= '9')
            count = count * 10 + (line[i++] - '0');
        if (i < n && line[i] == ')') {
            c->expect_joins = nclients - count;
            finish_login(c, 1);
        }
    } else if (starts(line, n, "!!! ")) {
        error_line(c, line + 4, n - 4);
        finish_login(c, 0);
    }
}

static void check_settled(client_t *c) {
    if (!c->settled && c->state == 3 && c->joins >= c->expect_joins)
        c->settled = 1;
}

static void set_events(client_t *c, int writing) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | (writing ? EPOLLOUT : 0);
    ev.data.ptr = c;
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->writing = writing;
}

static void close_client(client_t *c) {
    if (c->state == 4 || c->fd < 0)
        return;
    if (c->state != 3)
        finish_login(c, 0);
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);
    c->fd = -1;
    c->state = 4;
    closed_count++;
}

/* An SSL call that did not succeed: 1 if it only waits for the socket (then
 * EPOLLOUT is asked for if libssl waits to write), 0 if the client is gone. */
static int tls_wait(client_t *c, int n) {
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_WANT_READ)
        return 1;
    if (err == SSL_ERROR_WANT_WRITE) {
        if (!c->writing)
            set_events(c, 1);
        return 1;
    }
    if (c->state != 3) {
        char text[160];
        unsigned long code = ERR_peek_error();
        snprintf(text, sizeof text, "TLS error %d: %s", err,
                 code ? ERR_reason_error_string(code) : "connection closed");
        error_line(c, text, strlen(text));
    }
    close_client(c);
    return 0;
}

/* With TLS: SSL_write what waits (or go on with the handshake), EPOLLOUT
 * only while libssl waits to write. */
static void flush_tls(client_t *c) {
    int want = 0;
    for (;;) {
        int n;
        ERR_clear_error();
        if (c->outoff < c->outlen)
            n = SSL_write(c->ssl, c->out + c->outoff, (int)(c->outlen - c->outoff));
        else if (!SSL_is_init_finished(c->ssl))
            n = SSL_do_handshake(c->ssl);
        else
            break;
        if (n > 0) {
            if (c->outoff < c->outlen)
                c->outoff += (size_t)n;
            continue;
        }
        if (!tls_wait(c, n))
            return;
        want = SSL_get_error(c->ssl, n) == SSL_ERROR_WANT_WRITE;
        break;
    }
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = 0;
    if (want != c->writing)
        set_events(c, want);
}

static void flush_out(client_t *c) {
    if (c->ssl != NULL) {
        flush_tls(c);
        return;
    }
    while (c->outoff < c->outlen) {
        ssize_t r = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
                         MSG_NOSIGNAL);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            close_client(c);
            return;
        }
        c->outoff += (size_t)r;
    }
    if (c->outoff == c->outlen)
        c->outoff = c->outlen = 0;
    int want = c->outlen > 0 || !c->connected;
    if (want != c->writing)
        set_events(c, want);
}

static void client_write(client_t *c, const char *data, size_t n) {
    if (c->fd < 0)
        return;
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + n)
            cap *= 2;
        char *out = realloc(c->out, cap);
        if (out == NULL) {
            perror("realloc");
            exit(1);
        }
        c->out = out;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, data, n);
    c->outlen += n;
    if (c->connected && !c->writing)
        flush_out(c);
}

static void *grow(void *buffer, size_t *cap, size_t need) {
    if (need <= *cap)
        return buffer;
    size_t size = *cap ? *cap : 256;
    while (size < need)
        size *= 2;
    buffer = realloc(buffer, size);
    if (buffer == NULL) {
        perror("realloc");
        exit(1);
    }
    *cap = size;
    return buffer;
}

/* A counting receiver, once sending has started: what arrived is counted
 * and discarded (MSG_TRUNC: the kernel copies nothing; no buffer needed). */
static void on_counting(client_t *c) {
    if (c->ssl != NULL) {
        /* At most 64 records at a time: the others' turn comes too. */
        for (int k = 0; k < 64; k++) {
            ERR_clear_error();
            int n = SSL_read(c->ssl, scratch, sizeof scratch);
            if (n <= 0) {
                tls_wait(c, n);
                return;
            }
            c->bytes += n;
        }
        return;
    }
    ssize_t r = recv(c->fd, NULL, 1 << 30, MSG_TRUNC | MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        close_client(c);
        return;
    }
    if (r > 0)
        c->bytes += r;
}

static void on_readable(client_t *c) {
    if (c->counting) {
        on_counting(c);
        return;
    }
    size_t have = c->partlen;
    readbuf = grow(readbuf, &readcap, have + READ_SIZE);
    if (have)
        memcpy(readbuf, c->part, have);
    ssize_t r;
    if (c->ssl != NULL) {
        ERR_clear_error();
        int n = SSL_read(c->ssl, readbuf + have, READ_SIZE);
        if (n <= 0) {
            if (tls_wait(c, n) && c->outoff < c->outlen && !c->writing)
                flush_tls(c); /* a write may have waited for the handshake */
            return;
        }
        r = n;
    } else {
        r = recv(c->fd, readbuf + have, READ_SIZE, 0);
    }
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        close_client(c);
        return;
    }
    if (r < 0)
        return;
    size_t total = have + (size_t)r, at = 0;
    int64_t now = now_ns();
    for (;;) {
        char *nl = memchr(readbuf + at, '\n', total - at);
        if (nl == NULL)
            break;
        size_t end = (size_t)(nl - readbuf), n = end - at;
        c->crlf = n > 0 && readbuf[at + n - 1] == '\r';
        if (c->crlf)
            n--;
        if (c->state == 3)
            line_logged_in(c, readbuf + at, n, now);
        else
            line_login(c, readbuf + at, n);
        at = end + 1;
        if (c->fd < 0)
            return;
    }
    size_t left = total - at;
    if (left > MAX_PART) {
        corrupted++; /* a line longer than anything sent: drop it */
        left = 0;
    }
    if (left > 0) {
        c->part = grow(c->part, &c->partcap, left);
        memmove(c->part, readbuf + at, left);
    }
    c->partlen = left;
    check_settled(c);
    if (c->ssl != NULL && SSL_pending(c->ssl) > 0)
        on_readable(c); /* decrypted and not read yet: epoll cannot tell */
}

static void on_connected(client_t *c) {
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        error_line(c, strerror(err), strlen(strerror(err)));
        close_client(c);
        return;
    }
    c->connected = 1;
    if (use_tls) {
        c->ssl = SSL_new(tls);
        if (c->ssl == NULL || !SSL_set_fd(c->ssl, c->fd)) {
            error_line(c, "SSL_new failed", 14);
            close_client(c);
            return;
        }
        SSL_set_connect_state(c->ssl);
    }
    flush_out(c);
}

static void start_client(int i) {
    client_t *c = &clients[i];
    started++;
    inflight++;
    c->state = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        error_line(c, strerror(errno), strlen(strerror(errno)));
        c->state = 4;
        finish_login(c, 0);
        return;
    }
    struct linger reset = {1, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    if (nsources > 0) {
        struct sockaddr_in src;
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        inet_pton(AF_INET, source_base, &src.sin_addr);
        src.sin_addr.s_addr = htonl(ntohl(src.sin_addr.s_addr) + (uint32_t)(i % nsources));
        int one = 1;
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
        if (bind(c->fd, (struct sockaddr *)&src, sizeof src) < 0) {
            error_line(c, strerror(errno), strlen(strerror(errno)));
            close_client(c);
            return;
        }
    }
    struct sockaddr_in dst;
    memset(&dst, 0, sizeof dst);
    dst.sin_family = AF_INET;
    dst.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &dst.sin_addr);
    if (connect(c->fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
        error_line(c, strerror(errno), strlen(strerror(errno)));
        close_client(c);
        return;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.ptr = c;
    c->writing = 1;
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        error_line(c, strerror(errno), strlen(strerror(errno)));
        close_client(c);
    }
}

/* Run the event loop once, waiting at most timeout_ms. */
static void turn(int timeout_ms) {
    static struct epoll_event events[MAX_EVENTS];
    int n = epoll_wait(epfd, events, MAX_EVENTS, timeout_ms);
    for (int i = 0; i < n; i++) {
        client_t *c = events[i].data.ptr;
        if (c->fd < 0)
            continue;
        if (!c->connected && (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            on_connected(c);
            if (c->fd < 0)
                continue;
        } else if (events[i].events & EPOLLOUT) {
            flush_out(c);
            if (c->fd < 0)
                continue;
        }
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
            on_readable(c);
    }
}

static int ms_until(double deadline) {
    double left = deadline - now_s();
    if (left <= 0)
        return 0;
    return (int)ceil(left * 1000);
}

static void json_errors(void) {
    printf("\"errors\": [");
    for (int i = 0; i < nerrors && i < 3; i++) {
        printf("%s\"", i ? ", " : "");
        for (const char *p = errors[i]; *p; p++) {
            if (*p == '"' || *p == '\\')
                printf("\\%c", *p);
            else if ((unsigned char)*p < 0x20)
                printf("\\u%04x", *p);
            else
                putchar(*p);
        }
        putchar('"');
    }
    printf("]");
}

/* The length of every line a counting receiver gets: "<sN> " and the body
 * send_due writes, with the line ending it got during the login. */
static long line_bytes(const client_t *c) {
    return 1 + (long)clients[senders[0].client].namelen + 2 + SEQ_DIGITS + 1 + SENT_DIGITS +
           1 + pad + 1 + 8 + (c->crlf ? 2 : 1);
}

/* Lines a counting receiver has read in full: its bytes / line_bytes. */
static long counted_lines(const client_t *c) { return c->bytes / line_bytes(c); }

static long outstanding(long *sent, long *expected) {
    long lost = 0, want = 0;
    for (int i = 0; i < nclients; i++) {
        client_t *c = &clients[i];
        if (c->state != 3)
            continue;
        if (c->counting) {
            long all = 0;
            for (int s = 0; s < nsenders; s++)
                all += sent[s];
            want += all;
            lost += all > counted_lines(c) ? all - counted_lines(c) : 0;
            continue;
        }
        for (int s = 0; s < nsenders; s++) {
            if (s == c->sender)
                continue;
            long got = c->seen ? c->seen[s].unique : 0;
            want += sent[s];
            lost += sent[s] > got ? sent[s] - got : 0;
        }
    }
    if (expected)
        *expected = want;
    return lost;
}

static void usage(void) {
    fprintf(stderr,
            "usage: cloadgen --port P [--host H] [--clients N] [--senders S]\n"
            "  [--concurrency C] [--login-timeout S] [--settle-timeout S]\n"
            "  [--duration S] [--rate LINES_PER_S] [--window N] [--lines N]\n"
            "  [--pad N] [--drain-timeout S] [--sources K] [--source-base IP]\n"
            "  [--wait-go] [--time-limit S] [--check-every N]\n"
            "  [--check-all-below N] [--rcvlowat BYTES] [--tls]\n");
    exit(2);
}

static void options(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--wait-go") == 0) {
            wait_go = 1;
            continue;
        }
        if (strcmp(o, "--tls") == 0) {
            use_tls = 1;
            continue;
        }
        if (i + 1 >= argc)
            usage();
        const char *v = argv[++i];
        if (strcmp(o, "--host") == 0)
            host = v;
        else if (strcmp(o, "--port") == 0)
            port = atoi(v);
        else if (strcmp(o, "--clients") == 0)
            nclients = atoi(v);
        else if (strcmp(o, "--senders") == 0)
            nsenders = atoi(v);
        else if (strcmp(o, "--concurrency") == 0)
            concurrency = atoi(v);
        else if (strcmp(o, "--login-timeout") == 0)
            login_timeout = atof(v);
        else if (strcmp(o, "--settle-timeout") == 0)
            settle_timeout = atof(v);
        else if (strcmp(o, "--duration") == 0)
            duration = atof(v);
        else if (strcmp(o, "--rate") == 0)
            rate = atof(v);
        else if (strcmp(o, "--window") == 0)
            window_lines = atol(v);
        else if (strcmp(o, "--lines") == 0)
            max_lines = atol(v);
        else if (strcmp(o, "--pad") == 0)
            pad = atoi(v);
        else if (strcmp(o, "--drain-timeout") == 0)
            drain_timeout = atof(v);
        else if (strcmp(o, "--sources") == 0)
            nsources = atoi(v);
        else if (strcmp(o, "--source-base") == 0)
            source_base = v;
        else if (strcmp(o, "--time-limit") == 0)
            time_limit = atoi(v);
        else if (strcmp(o, "--check-every") == 0)
            check_every = atoi(v);
        else if (strcmp(o, "--check-all-below") == 0)
            check_all_below = atoi(v);
        else if (strcmp(o, "--rcvlowat") == 0)
            rcvlowat = atoi(v);
        else
            usage();
    }
    if (port <= 0 || nclients <= 0 || nsenders < 0 || nsenders > MAX_SENDERS ||
        nsenders > nclients || concurrency <= 0 || pad < 0 || check_every < 1 ||
        rcvlowat < 0 ||
        pad >= (int)sizeof padding)
        usage();
}

static void raise_fd_limit(void) {
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

/* Send what each sender may send now; return when to look again. */
static double send_due(double start, double end) {
    double wake = end;
    long most = max_lines > 0 && max_lines < 100000000L ? max_lines : 100000000L;
    char line[4200];
    for (int s = 0; s < nsenders; s++) {
        sender_t *st = &senders[s];
        client_t *c = &clients[st->client];
        if (c->fd < 0 || st->seq >= most)
            continue;
        long upto;
        double now = now_s();
        if (rate > 0) {
            upto = (long)((now - start) * rate) + 1;
            if (upto > most)
                upto = most;
            double next = start + (double)upto / rate;
            if (next < wake)
                wake = next;
        } else {
            long acked = 1L << 62;
            if (acker >= 0 && clients[acker].state == 3)
                acked = clients[acker].seen ? clients[acker].seen[s].next : 0;
            upto = acked + window_lines;
            if (upto > most)
                upto = most;
            if (now + 0.002 < wake)
                wake = now + 0.002;
        }
        while (st->seq < upto) {
            long sent = (long)now_ns();
            /* Fixed width (SEQ_DIGITS, SENT_DIGITS): every line of a sender
             * has the same length, which counting receivers rely on. */
            int body = snprintf(line, sizeof line, "%0*ld %0*ld %s", SEQ_DIGITS, st->seq,
                                SENT_DIGITS, sent, padding);
            uint32_t crc = crc32_update(0, c->name, c->namelen);
            crc = crc32_update(crc, " ", 1);
            crc = crc32_update(crc, line, (size_t)body);
            int n = body + snprintf(line + body, sizeof line - (size_t)body, " %08x\n", crc);
            client_write(c, line, (size_t)n);
            st->seq++;
        }
    }
    return wake;
}

/* Make the receivers that do not check counting ones (see "Counting
 * receivers" above); from now on they discard what they read. */
static void start_counting(void) {
    int receivers = 0;
    for (int i = nsenders; i < nclients; i++)
        receivers += clients[i].state == 3;
    int counting = nsenders > 0 && nsenders <= MAX_COUNTING_SENDERS && check_every > 1 &&
                   receivers >= check_all_below;
    for (int i = 0; i < nclients; i++) {
        client_t *c = &clients[i];
        if (c->state != 3)
            continue;
        if (!counting || i < nsenders || i == acker || (i - nsenders) % check_every == 0) {
            nchecking++;
            continue;
        }
        c->counting = 1;
        c->bytes = (long)c->partlen; /* none after settling; if any, a mismatch */
        c->partlen = 0;
        ncounting++;
        if (rcvlowat > 0)
            setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &rcvlowat, sizeof rcvlowat);
    }
}

/* Before draining: wake counting receivers for every byte again, and read
 * what waits below the low-water mark. */
static void stop_lowat(void) {
    int one = 1;
    for (int i = 0; i < nclients; i++) {
        client_t *c = &clients[i];
        if (c->counting && c->fd >= 0) {
            if (rcvlowat > 0)
                setsockopt(c->fd, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one);
            on_counting(c);
        }
    }
}

/* A counting receiver's verdict: every line of every sender once is exactly
 * sum(sent) x line_bytes bytes; anything else is an error (a mismatch),
 * counted as lost lines (too few), extra ones (too many, as duplicated)
 * and a corrupted one (not a whole number of lines). */
static void count_verdicts(const long *sent) {
    long all = 0;
    for (int s = 0; s < nsenders; s++)
        all += sent[s];
    for (int i = 0; i < nclients; i++) {
        client_t *c = &clients[i];
        if (!c->counting || c->state != 3)
            continue;
        long len = line_bytes(c), got = counted_lines(c);
        counted_deliveries += got < all ? got : all;
        if (c->bytes == all * len)
            continue;
        count_mismatch++;
        if (got > all)
            duplicated += got - all;
        if (c->bytes % len)
            corrupted++;
        char text[120];
        int n = snprintf(text, sizeof text, "counted %ld bytes, expected %ld (%ld lines of %ld)",
                         c->bytes, all * len, all, len);
        error_line(c, text, (size_t)n);
    }
}

int main(int argc, char **argv) {
    base_ns = now_ns();
    options(argc, argv);
    if (time_limit <= 0)
        time_limit = (int)(login_timeout + settle_timeout + duration + drain_timeout + 60);
    alarm((unsigned)time_limit);
    signal(SIGPIPE, SIG_IGN);
    raise_fd_limit();
    crc_init();
    memset(padding, 'x', (size_t)pad);
    if (use_tls) {
        tls = SSL_CTX_new(TLS_client_method());
        if (tls == NULL) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
        SSL_CTX_set_verify(tls, SSL_VERIFY_NONE, NULL);
        SSL_CTX_set_mode(tls, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
    }
    clients = calloc((size_t)nclients, sizeof *clients);
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (clients == NULL || epfd < 0) {
        perror("start");
        return 1;
    }
    for (int i = 0; i < nclients; i++) {
        client_t *c = &clients[i];
        c->fd = -1;
        c->state = -1;
        c->expect_joins = -1;
        c->sender = i < nsenders ? i : -1;
        c->namelen = (size_t)snprintf(c->name, sizeof c->name, i < nsenders ? "s%d" : "u%d",
                                      i < nsenders ? i : i - nsenders);
    }
    for (int s = 0; s < nsenders; s++) {
        senders[s].client = s;
        senders[s].ring = calloc(RING, sizeof(cached_t));
        if (senders[s].ring == NULL) {
            perror("calloc");
            return 1;
        }
        for (int k = 0; k < RING; k++)
            senders[s].ring[k].seq = -1;
    }

    /* Log in. */
    double cpu0 = cpu_seconds(), t0 = now_s(), deadline = t0 + login_timeout;
    while (now_s() < deadline) {
        while (started < nclients && inflight < concurrency)
            start_client(started);
        if (started == nclients && inflight == 0)
            break;
        turn(ms_until(deadline) < 50 ? ms_until(deadline) : 50);
    }
    double login_s = now_s() - t0, login_cpu = cpu_seconds() - cpu0;
    long failed = nclients - logged_in; /* refused, or not in time */
    for (int i = 0; i < nclients; i++)
        check_settled(&clients[i]);

    /* Settle: every join notice read. */
    double cpu1 = cpu_seconds(), t1 = now_s();
    deadline = t1 + settle_timeout;
    int settled = 0;
    while (now_s() < deadline) {
        settled = 0;
        for (int i = 0; i < nclients; i++)
            settled += clients[i].settled;
        if (settled >= logged_in)
            break;
        turn(ms_until(deadline) < 20 ? ms_until(deadline) : 20);
    }
    settled = 0;
    for (int i = 0; i < nclients; i++)
        settled += clients[i].settled;
    double settle_s = now_s() - t1, settle_cpu = cpu_seconds() - cpu1;
    printf("{\"phase\": \"settle\", \"loggedIn\": %d, \"failed\": %ld, "
           "\"loginSeconds\": %.3f, \"loginCpu\": %.3f, \"settled\": %d, "
           "\"settleSeconds\": %.3f, \"settleCpu\": %.3f, \"errorCount\": %ld, ",
           logged_in, failed, login_s, login_cpu, settled, settle_s,
           settle_cpu, errcount);
    const SSL *first = NULL;
    for (int i = 0; i < nclients && first == NULL; i++)
        if (clients[i].state == 3)
            first = clients[i].ssl;
    if (first != NULL)
        printf("\"tls\": \"%s %s\", ", SSL_get_version(first), SSL_get_cipher_name(first));
    else
        printf("\"tls\": null, ");
    json_errors();
    printf("}\n");
    fflush(stdout);
    if (wait_go) {
        char buf[64];
        if (fgets(buf, sizeof buf, stdin) == NULL)
            return 1;
    }

    /* The acknowledging receiver: the first logged-in non-sender. */
    for (int i = nsenders; i < nclients && acker < 0; i++)
        if (clients[i].state == 3)
            acker = i;
    delivered = duplicated = reordered = corrupted = unknown = 0;
    memset(hist, 0, sizeof hist);
    start_counting();

    /* Send. */
    double cpu2 = cpu_seconds(), t2 = now_s(), end = t2 + duration;
    while (now_s() < end) {
        double wake = send_due(t2, end);
        long most = max_lines > 0 && max_lines < 100000000L ? max_lines : 100000000L;
        int done = 1;
        for (int s = 0; s < nsenders; s++)
            if (clients[senders[s].client].fd >= 0 && senders[s].seq < most)
                done = 0;
        if (done)
            break;
        turn(ms_until(wake < end ? wake : end));
    }
    double send_s = now_s() - t2;
    long sent[MAX_SENDERS];
    for (int s = 0; s < nsenders; s++)
        sent[s] = senders[s].seq;

    /* Drain. */
    stop_lowat();
    double t3 = now_s();
    deadline = t3 + drain_timeout;
    long expected = 0, lost = outstanding(sent, &expected);
    while (lost > 0 && now_s() < deadline) {
        double look = now_s() + 0.02;
        while (now_s() < look)
            turn(ms_until(look));
        lost = outstanding(sent, NULL);
    }
    double drain_s = now_s() - t3, cpu = cpu_seconds() - cpu2;
    checked_deliveries = delivered;
    count_verdicts(sent);
    delivered += counted_deliveries;
    long total_sent = 0;
    for (int s = 0; s < nsenders; s++)
        total_sent += sent[s];
    printf("{\"phase\": \"result\", \"sentTotal\": %ld, \"sent\": {", total_sent);
    for (int s = 0; s < nsenders; s++)
        printf("%s\"%s\": %ld", s ? ", " : "", clients[senders[s].client].name, sent[s]);
    printf("}, \"expected\": %ld, \"delivered\": %ld, \"lost\": %ld, "
           "\"duplicated\": %ld, \"reordered\": %ld, \"corrupted\": %ld, "
           "\"notices\": %ld, \"other\": %ld, \"history\": %ld, "
           "\"unknownSender\": %ld, \"errorCount\": %ld, \"closed\": %ld, "
           "\"sendSeconds\": %.3f, \"drainSeconds\": %.3f, \"cpu\": %.3f, "
           "\"checking\": %d, \"counting\": %d, \"checkEvery\": %d, "
           "\"checkedDeliveries\": %ld, \"countedDeliveries\": %ld, "
           "\"countMismatch\": %ld, \"lineBytes\": %ld, \"rcvlowat\": %d, ",
           total_sent ? expected : 0, delivered, lost, duplicated, reordered, corrupted,
           notices, other, history_lines, unknown, errcount, closed_count, send_s,
           drain_s, cpu, nchecking, ncounting, ncounting ? check_every : 1,
           checked_deliveries, counted_deliveries, count_mismatch,
           nsenders > 0 ? line_bytes(&clients[nsenders < nclients ? nsenders : 0]) : 0,
           rcvlowat);
    double p50 = percentile(0.5), p99 = percentile(0.99), pmax = percentile(1.0);
    if (p50 < 0)
        printf("\"p50\": null, \"p99\": null, \"max\": null, ");
    else
        printf("\"p50\": %.3f, \"p99\": %.3f, \"max\": %.3f, ", p50, p99, pmax);
    json_errors();
    printf("}\n");
    fflush(stdout);
    for (int i = 0; i < nclients; i++)
        if (clients[i].fd >= 0)
            close(clients[i].fd);
    return 0;
}
