/*
 * A single-threaded C epoll chat server: the reference for what this
 * machine can do, for the benchmark only (bench/run.py builds it with the
 * system C compiler; see bench/README.md).
 *
 * It speaks the subset of the line protocol that bench/baselines/naive.py
 * speaks (and the load generator needs): a greeting and a name prompt, the
 * name, "=== Welcome to chat, NAME!", "=== Users online (N): A, B",
 * "--> NAME has joined" and "<-- NAME has left" to everyone else, and
 * "<NAME> TEXT" to everyone but the sender.  Lines end in "\r\n" going out
 * and "\n" (an optional "\r" is dropped) coming in.  Bytes are passed as they
 * are: unlike naive.py it does not replace invalid UTF-8.
 *
 * Design: non-blocking sockets, level-triggered epoll; reads go into one
 * shared buffer and only the unfinished tail of a line is kept per client
 * (at most MAX_LINE bytes, or the client is dropped); each line is formatted
 * once and appended to each recipient's output buffer; at the end of the
 * batch of events from one epoll_wait (one turn) each client given output
 * in the turn gets one send() straight to its socket, if nothing waited for
 * it before, keeping only the remainder, with EPOLLOUT asked for only while
 * something waits.  (Sending each line to each recipient at once, one
 * send() per delivery, cost 1.5 us of CPU per delivery in the fan-out,
 * more than naive Twisted, which coalesces a turn's writes: see
 * bench/NOTES.md.)  A client whose waiting output passes MAX_OUT is
 * dropped.  Clients that die are closed after the turn that killed them (so
 * that no event of the batch points at freed memory), and their leave
 * notices are sent then.
 *
 * TLS (issue 25): given a PEM file holding a private key and its
 * certificate, every connection speaks TLS through libssl (the system's
 * OpenSSL, its default protocol versions and ciphers), non-blocking: the
 * handshake is driven by the first SSL_read or SSL_write, and at the end of
 * a turn each client given output gets one SSL_write of everything waiting
 * for it (TLS records of up to 16 KB each; SSL_MODE_ENABLE_PARTIAL_WRITE, so
 * a socket that takes part of it keeps the rest waiting, as without TLS).
 * SSL_MODE_RELEASE_BUFFERS is on, and the session cache and tickets are off,
 * as on our server's TLS listeners (Twisted's CertificateOptions).
 *
 * Build: cc -O2 -Wall -Wextra -Werror -o cepoll cepoll.c -lssl -lcrypto
 * Run:   ./cepoll [PORT [PEM]]   (0 or nothing: any free port; PEM: TLS);
 *        it prints "listening on 127.0.0.1:PORT".
 */

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_LINE 16384           /* longest line read, without its "\n" */
#define MAX_NAME 64              /* longest name, in bytes */
#define MAX_OUT (8u << 20)       /* most output waiting for one client */
#define READ_SIZE 65536          /* one read */
#define MAX_EVENTS 256
#define OUT_LINE (MAX_NAME + MAX_LINE + 16) /* "<NAME> TEXT\r\n" and more */

struct client {
    int fd;
    int dead;             /* to be closed after this batch of events */
    int writing;          /* EPOLLOUT is asked for */
    size_t user;          /* index in users, or SIZE_MAX before login */
    size_t namelen;
    char name[MAX_NAME + 1];
    char *part;           /* the unfinished line, or NULL */
    size_t partlen, partcap;
    char *out;            /* output waiting: out[outoff, outlen) */
    size_t outoff, outlen, outcap;
    struct client *nextdead;
    int dirty;            /* in the dirty list: output to send this turn */
    struct client *dprev, *dnext;
    SSL *ssl;             /* with TLS, else NULL */
};

static int epfd = -1;
static struct client **users; /* logged-in clients, in no order */
static size_t nusers, usercap;
static struct client *deadlist;
static struct client *dirtyhead; /* clients given output this turn */
static char readbuf[READ_SIZE];
static char linebuf[OUT_LINE];
static SSL_CTX *tls; /* NULL: plain TCP */

static void die(const char *what) {
    perror(what);
    exit(1);
}

static void kill_client(struct client *c) {
    if (!c->dead) {
        c->dead = 1;
        c->nextdead = deadlist;
        deadlist = c;
    }
}

static int set_events(struct client *c, int writing) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN | (writing ? EPOLLOUT : 0);
    ev.data.ptr = c;
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        kill_client(c);
        return -1;
    }
    c->writing = writing;
    return 0;
}

/* Keep data[0, len) to send later; drop the client past MAX_OUT. */
static void keep(struct client *c, const char *data, size_t len) {
    size_t waiting = c->outlen - c->outoff;
    if (len > MAX_OUT || waiting > MAX_OUT - len) {
        kill_client(c);
        return;
    }
    if (c->outoff > 0 && c->outlen + len > c->outcap) {
        memmove(c->out, c->out + c->outoff, waiting);
        c->outoff = 0;
        c->outlen = waiting;
    }
    if (c->outlen + len > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + len)
            cap *= 2; /* cannot overflow: outlen + len <= 2 * MAX_OUT */
        char *out = realloc(c->out, cap);
        if (out == NULL) {
            kill_client(c);
            return;
        }
        c->out = out;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, data, len);
    c->outlen += len;
}

static void mark_dirty(struct client *c) {
    if (c->dirty)
        return;
    c->dirty = 1;
    c->dprev = NULL;
    c->dnext = dirtyhead;
    if (dirtyhead != NULL)
        dirtyhead->dprev = c;
    dirtyhead = c;
}

static void unmark_dirty(struct client *c) {
    if (!c->dirty)
        return;
    if (c->dprev != NULL)
        c->dprev->dnext = c->dnext;
    else
        dirtyhead = c->dnext;
    if (c->dnext != NULL)
        c->dnext->dprev = c->dprev;
    c->dirty = 0;
    c->dprev = c->dnext = NULL;
}

/* Queue data for c; it goes out at the end of the turn, or on EPOLLOUT. */
static void send_to(struct client *c, const char *data, size_t len) {
    if (c->dead)
        return;
    keep(c, data, len);
    if (!c->dead && !c->writing)
        mark_dirty(c);
}

/* With TLS: one SSL_write of what waits (the handshake first, if it is not
 * done); 1 if the socket may take more, 0 if not (EPOLLOUT is asked for
 * when libssl waits to write; when it waits to read, the next read
 * event flushes again). */
static int flush_tls(struct client *c) {
    ERR_clear_error();
    int n = c->outoff < c->outlen
                ? SSL_write(c->ssl, c->out + c->outoff, (int)(c->outlen - c->outoff))
                : SSL_do_handshake(c->ssl);
    if (n > 0) {
        if (c->outoff < c->outlen)
            c->outoff += (size_t)n;
        return 1;
    }
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_WANT_WRITE) {
        if (!c->writing)
            set_events(c, 1);
    } else if (err != SSL_ERROR_WANT_READ) {
        kill_client(c);
    }
    return 0;
}

/* Send what waits for c; ask for EPOLLOUT only if something is left. */
static void flush_client(struct client *c) {
    if (c->ssl != NULL) {
        if (!SSL_is_init_finished(c->ssl) && c->outoff == c->outlen)
            flush_tls(c);
        while (c->outoff < c->outlen && !c->dead)
            if (!flush_tls(c))
                return;
        if (c->dead || !SSL_is_init_finished(c->ssl))
            return;
    }
    while (c->ssl == NULL && c->outoff < c->outlen) {
        ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
                         MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                kill_client(c);
            return;
        }
        if (n == 0)
            break;
        c->outoff += (size_t)n;
    }
    if (c->outoff < c->outlen) {
        if (!c->writing)
            set_events(c, 1);
        return;
    }
    c->outoff = c->outlen = 0;
    if (c->outcap > 65536) { /* give back what a burst grew */
        free(c->out);
        c->out = NULL;
        c->outcap = 0;
    }
    if (c->writing)
        set_events(c, 0);
}

/* The end of a turn: one send to each client given output in it. */
static void flush_dirty(void) {
    while (dirtyhead != NULL) {
        struct client *c = dirtyhead;
        unmark_dirty(c);
        if (!c->dead)
            flush_client(c);
    }
}

/* Send data to every logged-in client but except (which may be NULL). */
static void broadcast(const struct client *except, const char *data,
                      size_t len) {
    for (size_t i = 0; i < nusers; i++)
        if (users[i] != except)
            send_to(users[i], data, len);
}

/* linebuf = a + b + c + "\r\n"; returns its length, or 0 if too long. */
static size_t format3(const char *a, size_t alen, const char *b, size_t blen,
                      const char *c, size_t clen) {
    if (alen > OUT_LINE || blen > OUT_LINE - alen ||
        clen > OUT_LINE - alen - blen || 2 > OUT_LINE - alen - blen - clen)
        return 0;
    memcpy(linebuf, a, alen);
    memcpy(linebuf + alen, b, blen);
    memcpy(linebuf + alen + blen, c, clen);
    memcpy(linebuf + alen + blen + clen, "\r\n", 2);
    return alen + blen + clen + 2;
}

static void send_text(struct client *c, const char *text) {
    size_t n = format3(text, strlen(text), "", 0, "", 0);
    if (n)
        send_to(c, linebuf, n);
}

static int by_name(const void *a, const void *b) {
    const struct client *x = *(struct client *const *)a;
    const struct client *y = *(struct client *const *)b;
    int d = strcasecmp(x->name, y->name);
    return d ? d : strcmp(x->name, y->name);
}

static void send_user_list(struct client *c) {
    struct client **sorted = malloc(nusers * sizeof *sorted);
    size_t size = 64;
    for (size_t i = 0; i < nusers; i++)
        size += users[i]->namelen + 2; /* bounded: namelen <= MAX_NAME */
    char *line = malloc(size);
    if (sorted == NULL || line == NULL) {
        free(sorted);
        free(line);
        kill_client(c);
        return;
    }
    memcpy(sorted, users, nusers * sizeof *sorted);
    qsort(sorted, nusers, sizeof *sorted, by_name);
    int head = snprintf(line, size, "=== Users online (%zu):", nusers);
    size_t len = head > 0 ? (size_t)head : 0;
    for (size_t i = 0; i < nusers; i++) {
        const char *sep = i ? ", " : " ";
        size_t seplen = strlen(sep), namelen = sorted[i]->namelen;
        if (len + seplen + namelen + 2 > size)
            break; /* cannot happen: size counts every name */
        memcpy(line + len, sep, seplen);
        memcpy(line + len + seplen, sorted[i]->name, namelen);
        len += seplen + namelen;
    }
    memcpy(line + len, "\r\n", 2);
    send_to(c, line, len + 2);
    free(line);
    free(sorted);
}

static int is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' ||
           ch == '\f';
}

static void login(struct client *c, const char *name, size_t len) {
    while (len && is_space(*name))
        name++, len--;
    while (len && is_space(name[len - 1]))
        len--;
    if (!len)
        return;
    if (len > MAX_NAME || memchr(name, '\0', len) != NULL) {
        send_text(c, "!!! that name is not allowed");
        return;
    }
    for (size_t i = 0; i < nusers; i++) {
        if (users[i]->namelen == len && !memcmp(users[i]->name, name, len)) {
            size_t n = format3("!!! the name ", 13, name, len, " is taken",
                               9);
            if (n)
                send_to(c, linebuf, n);
            return;
        }
    }
    if (nusers == usercap) {
        size_t cap = usercap ? usercap * 2 : 1024;
        struct client **grown = realloc(users, cap * sizeof *grown);
        if (grown == NULL) {
            kill_client(c);
            return;
        }
        users = grown;
        usercap = cap;
    }
    memcpy(c->name, name, len);
    c->name[len] = '\0';
    c->namelen = len;
    c->user = nusers;
    users[nusers++] = c;
    size_t n = format3("=== Welcome to chat, ", 21, name, len, "!", 1);
    send_to(c, linebuf, n);
    send_user_list(c);
    n = format3("--> ", 4, name, len, " has joined", 11);
    broadcast(c, linebuf, n);
}

static void line_received(struct client *c, const char *line, size_t len) {
    if (len && line[len - 1] == '\r')
        len--;
    if (c->user == SIZE_MAX) {
        login(c, line, len);
        return;
    }
    if (!len)
        return;
    /* "<NAME> TEXT\r\n": fits, as namelen <= MAX_NAME, len <= MAX_LINE */
    if (len > MAX_LINE || c->namelen + len + 5 > OUT_LINE)
        return;
    linebuf[0] = '<';
    memcpy(linebuf + 1, c->name, c->namelen);
    memcpy(linebuf + 1 + c->namelen, "> ", 2);
    memcpy(linebuf + 3 + c->namelen, line, len);
    memcpy(linebuf + 3 + c->namelen + len, "\r\n", 2);
    broadcast(c, linebuf, c->namelen + len + 5);
}

/* Keep data as (the start of) the unfinished line; 0 if it is too long. */
static int keep_part(struct client *c, const char *data, size_t len) {
    if (len > MAX_LINE - c->partlen)
        return 0;
    if (c->partlen + len > c->partcap) {
        size_t cap = c->partcap ? c->partcap : 256;
        while (cap < c->partlen + len)
            cap *= 2;
        char *part = realloc(c->part, cap);
        if (part == NULL)
            return 0;
        c->part = part;
        c->partcap = cap;
    }
    memcpy(c->part + c->partlen, data, len);
    c->partlen += len;
    return 1;
}

/* With TLS: one SSL_read (the handshake first, if it is not done); what it
 * read, or 0 (then c may be dead). */
static ssize_t read_tls(struct client *c) {
    ERR_clear_error();
    int n = SSL_read(c->ssl, readbuf, sizeof readbuf);
    if (n > 0)
        return n;
    int err = SSL_get_error(c->ssl, n);
    if (err == SSL_ERROR_WANT_WRITE) {
        if (!c->writing)
            set_events(c, 1);
    } else if (err != SSL_ERROR_WANT_READ) {
        kill_client(c); /* closed, or an error */
    }
    if (c->outoff < c->outlen && !c->writing && !c->dead)
        mark_dirty(c); /* a write may have waited for the handshake */
    return 0;
}

static void read_client(struct client *c) {
    ssize_t got;
    if (c->ssl != NULL) {
        got = read_tls(c);
        if (got == 0)
            return;
    } else {
        got = recv(c->fd, readbuf, sizeof readbuf, 0);
    }
    if (got <= 0) {
        if (got == 0 || (errno != EAGAIN && errno != EWOULDBLOCK &&
                         errno != EINTR))
            kill_client(c); /* EOF or an error */
        return;
    }
    const char *p = readbuf, *end = readbuf + got;
    if (c->partlen) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            if (!keep_part(c, p, (size_t)(end - p)))
                kill_client(c);
            return;
        }
        if (!keep_part(c, p, (size_t)(nl - p))) {
            kill_client(c);
            return;
        }
        size_t len = c->partlen;
        c->partlen = 0; /* the line stays in c->part while it is handled */
        line_received(c, c->part, len);
        p = nl + 1;
    }
    while (p < end && !c->dead) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) {
            if (!keep_part(c, p, (size_t)(end - p)))
                kill_client(c);
            return;
        }
        line_received(c, p, (size_t)(nl - p));
        p = nl + 1;
    }
    if (c->partcap > 4096) {
        free(c->part);
        c->part = NULL;
        c->partcap = 0;
    }
}

static void accept_clients(int listener) {
    for (int i = 0; i < 256; i++) {
        int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                perror("accept4");
            return;
        }
        struct client *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            return;
        }
        c->fd = fd;
        c->user = SIZE_MAX;
        if (tls != NULL) {
            c->ssl = SSL_new(tls);
            if (c->ssl == NULL || !SSL_set_fd(c->ssl, fd)) {
                SSL_free(c->ssl);
                close(fd);
                free(c);
                continue;
            }
            SSL_set_accept_state(c->ssl);
        }
        struct epoll_event ev;
        memset(&ev, 0, sizeof ev);
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            SSL_free(c->ssl);
            close(fd);
            free(c);
            continue;
        }
        send_text(c, "-!- Welcome to chat. Type /help for help.");
        send_text(c, ">>> name: What's your name?");
    }
}

/* Close every dead client; their leave notices may kill more. */
static void reap(void) {
    while (deadlist != NULL) {
        struct client *c = deadlist;
        deadlist = c->nextdead;
        unmark_dirty(c); /* no dangling pointer in the dirty list */
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        SSL_free(c->ssl); /* no close_notify: the socket goes now */
        close(c->fd);
        if (c->user != SIZE_MAX) {
            users[c->user] = users[--nusers];
            users[c->user]->user = c->user;
            size_t n = format3("<-- ", 4, c->name, c->namelen, " has left",
                               9);
            broadcast(NULL, linebuf, n);
        }
        free(c->part);
        free(c->out);
        free(c);
    }
}

int main(int argc, char **argv) {
    long port = 0;
    if (argc > 1) {
        char *rest;
        port = strtol(argv[1], &rest, 10);
        if (*argv[1] == '\0' || *rest != '\0' || port < 0 || port > 65535 ||
            argc > 3) {
            fprintf(stderr, "usage: %s [PORT [PEM]]\n", argv[0]);
            return 2;
        }
    }
    if (argc > 2) {
        tls = SSL_CTX_new(TLS_server_method());
        if (tls == NULL ||
            SSL_CTX_use_certificate_chain_file(tls, argv[2]) != 1 ||
            SSL_CTX_use_PrivateKey_file(tls, argv[2], SSL_FILETYPE_PEM) != 1) {
            ERR_print_errors_fp(stderr);
            return 1;
        }
        SSL_CTX_set_mode(tls, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                  SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
        /* As Twisted's CertificateOptions by default: no session cache, no
         * session tickets. */
        SSL_CTX_set_session_cache_mode(tls, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(tls, SSL_OP_NO_TICKET);
    }
    signal(SIGPIPE, SIG_IGN);
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          0);
    if (listener < 0)
        die("socket");
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0)
        die("bind");
    if (listen(listener, 4096) < 0)
        die("listen");
    socklen_t addrlen = sizeof addr;
    if (getsockname(listener, (struct sockaddr *)&addr, &addrlen) < 0)
        die("getsockname");
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1");
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.ptr = NULL; /* NULL: the listener */
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, listener, &ev) < 0)
        die("epoll_ctl");
    printf("listening on 127.0.0.1:%u\n", (unsigned)ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(epfd, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct client *c = events[i].data.ptr;
            uint32_t what = events[i].events;
            if (c == NULL) {
                accept_clients(listener);
                continue;
            }
            if (c->dead)
                continue;
            if (what & EPOLLOUT)
                flush_client(c);
            if (!c->dead && (what & EPOLLIN))
                read_client(c);
            else if (!c->dead && (what & (EPOLLERR | EPOLLHUP)))
                kill_client(c);
        }
        /* Close the dead (their leave notices are output too) until a
         * turn's sends kill nobody. */
        for (;;) {
            flush_dirty();
            if (deadlist == NULL)
                break;
            reap();
        }
    }
}
