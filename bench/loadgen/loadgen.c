/*
 * loadgen: synthetic WebRTC participants for benchmarking the SFU.
 *
 * Each session is one mediasoup WebRtcTransport seen from the outside, on the path a browser
 * takes: ICE (we are the controlling agent, mediasoup is ICE-lite), DTLS 1.2 as the client with
 * DTLS-SRTP, then SRTP. Senders protect synthetic RTP (Opus-sized audio, VP8 with a valid payload
 * descriptor, simulcast as several SSRCs) and send SRTCP sender reports; receivers count what
 * arrives without decrypting it. One process, one epoll loop, one non-blocking UDP socket per
 * session, loopback only.
 *
 * SRTP profile: one per process, the only one offered in DTLS-SRTP (use_srtp), chosen at start:
 *   loadgen [--srtp gcm256|gcm128|sha1_80]
 *     gcm256   SRTP_AEAD_AES_256_GCM (RFC 7714), the default: what Chromium negotiates with mediasoup
 *     gcm128   SRTP_AEAD_AES_128_GCM (RFC 7714)
 *     sha1_80  SRTP_AES128_CM_SHA1_80 (RFC 3711: AES-128 counter mode, HMAC-SHA1 cut to 80 bits)
 *
 * Control protocol: one line per message.
 *
 * stdin (text, space-separated tokens):
 *   add <id> send|recv <serverIp> <serverPort> <iceUfrag> <icePwd> [key=<ms>] [apt=<pt>] [layers=<n>] [<stream>...]
 *       <stream> = audio,<ssrc>,<payloadType>,<packetsPerSec>,<payloadBytes>
 *                | video,<ssrc>,<payloadType>,<packetsPerSec>,<payloadBytes>[,<framesPerSec>]
 *       Video streams of one session are simulcast layers, lowest first. key=<ms> sends a key
 *       frame on every video stream that often (default 1000; 0: only at start and on PLI/FIR).
 *       apt=<pt> (recv sessions): RTP with this payload type is audio forwarded from one of our
 *       senders; its forwarding latency is measured (see Latency below). layers=<n> (send
 *       sessions): only the n lowest video streams send from the start (as the command below).
 *   remove <id>
 *   layers <id> <n>           (send sessions) only the n lowest video streams send, the others
 *       stop, with their sender reports (0: no video at all): a browser's simulcast encodings
 *       turned off as the server's dynacast asks (layersWanted). A stream turned back on starts
 *       with a key frame, its frames from now on (none made up for the time it was off).
 *   stats
 *   latency-reset             empties the latency histogram: the start of a measurement window
 *   stop                      (EOF on stdin stops too)
 *
 * stdout (JSON, one object per line, each with "event"):
 *   {"event":"fingerprint","algorithm":"sha-256","value":"AB:CD:...","srtp":"SRTP_AEAD_AES_256_GCM"}
 *       first line, once; srtp: the DTLS-SRTP profile this process offers (and so negotiates)
 *   {"event":"ready","id":..,"iceMs":..,"dtlsMs":..}
 *   {"event":"failed","id":..,"reason":".."}        (ids that cannot be parsed: id "")
 *       also after "ready" when the server closes DTLS: mediasoup checks our certificate's
 *       fingerprint only once its side of the handshake is done (a wrong one: ready, then failed)
 *   {"event":"removed","id":..}
 *   {"event":"stats","t":<ms, monotonic>,"cpuMs":<this process, user+sys>,"sessions":[...],"total":{...}}
 *       per session: id, role, state, sent, sentBytes, rtcpSent, keyFrames, recv, recvBytes,
 *       rtcpRecv, pliRecv, firRecv, txErrors, late, reordered (RTP packets whose sequence number
 *       was not after the previous one of their SSRC), and ssrcs: [[ssrc, packets], ...] received
 *       "latency":{"count":..,"p50":..,"p90":..,"p99":..,"max":..,"miss":..}: µs since the last
 *       latency-reset (p*: null while count is 0); miss: audio packets whose send time was unknown
 *   {"event":"stopped"}
 *
 * Timing: everything runs on a 2 ms tick (senders are paced to it; sockets are drained at each
 * tick, so one epoll_wait and one recvmmsg cover several packets under load).
 *
 * Latency: the RTP header is in the clear and mediasoup's SimpleConsumer (audio) rewrites only
 * SSRC and sequence number (SimpleConsumer::SendRtpPacket; SeqManager maps sequence numbers
 * only), so a forwarded audio packet carries the RTP timestamp its sender put in. Senders note
 * the time just before the sendmmsg of each audio packet, by RTP timestamp; receivers look the
 * timestamp up and add the difference to a histogram. The receive time is the kernel's
 * (SO_TIMESTAMPNS, stamped when the server's send enters loopback), not the time recvmmsg
 * returned: sockets are only drained once per 2 ms tick, which would add 0-2 ms of our own
 * waiting. Both ends therefore use CLOCK_REALTIME (the kernel stamps with it); a clock step
 * during a window spoils it. What is measured: our sendmmsg call, loopback to the server, the
 * server's receive, SRTP unprotect, forwarding, SRTP protect and send, up to its packet entering
 * loopback towards us (where the kernel stamps it). Under load it includes the scheduling delays
 * of both processes.
 *
 * Floors (subcommands, not the protocol; each prints one JSON line and exits):
 *   loadgen floor-relay [seconds=5] [batch=64]   raw UDP relay on loopback, no crypto: a blaster
 *       thread sends 100-byte (then 1200-byte) datagrams as fast as it can to a relay thread,
 *       which forwards them (recvmmsg, sendmmsg, up to <batch> at a time) to a sink thread that
 *       counts them; <seconds> per size. Reports packets relayed per second and the relay
 *       thread's CPU time per packet (getrusage RUSAGE_THREAD): the floor for an SFU's
 *       per-packet cost. batch=1 is closer to mediasoup, which makes one syscall per packet.
 *   loadgen floor-srtp [iterations=2000000]   CPU ns per srtp_protect of 100- and 1200-byte
 *       payloads (this file's SRTP) for each profile: AES128_CM_SHA1_80 (and its AES-CTR and
 *       HMAC-SHA1 parts alone), AEAD_AES_128_GCM, AEAD_AES_256_GCM.
 *
 * Build: bench/loadgen/build.sh.  Self-test (loadgen --selftest): the SRTP key derivation against
 * RFC 3711 appendix B.3 (AES-128) and RFC 6188 section 7.2 (AES-256), AES-CM against RFC 3711
 * B.2, AEAD AES-GCM SRTP and SRTCP against RFC 7714 sections 16 and 17 (128 and 256), and the
 * whole path (master key and 12-byte salt, derivation, SRTP, SRTCP) against libsrtp's GCM
 * reference packets.
 *
 * What it does not do: RTX/NACK answers, transport-cc or REMB feedback, receiver reports, SRTP
 * decryption of what it receives (a PLI/FIR is recognised from the first RTCP header, which SRTCP
 * leaves in the clear with every profile: the 8 bytes up to the sender SSRC are authenticated,
 * not encrypted, in RFC 3711 and in RFC 7714 alike; it is answered with a key frame on every
 * video stream of the session), checking the server's DTLS fingerprint, IPv6, TCP.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SESSIONS 4096
#define MAX_STREAMS 8
#define MAX_RX_SSRCS 16
#define MAX_PAYLOAD 1200
#define MIN_PAYLOAD 16
#define MAX_RATE 2000      /* packets/s per stream */
#define PKT_MAX 1500
#define BATCH 64           /* datagrams per sendmmsg / recvmmsg */
#define TICK_US 2000       /* pacing granularity */
#define ICE_RETRY_US 100000
#define ICE_TIMEOUT_US 5000000
#define DTLS_TIMEOUT_US 10000000
#define KEEPALIVE_US 2000000
#define SR_INTERVAL_US 1000000
#define MTU 1200
#define LAT_TAB_BITS 18     /* send times by RTP timestamp; a slot need only last until its packet is back */
#define LAT_MAX_AGE_NS 5000000000LL
#define LAT_SUB 64          /* histogram sub-buckets per power of two: each 1/64 of its value wide */
#define LAT_BUCKETS 2048    /* ns up to 2^37 (>1 min); exact below 128 ns */

enum state { ST_ICE, ST_DTLS, ST_READY, ST_FAILED };
static const char *state_name[] = { "ice", "dtls", "ready", "failed" };

/* A DTLS-SRTP protection profile (RFC 5764, RFC 7714 section 12): what the master key and salt
 * exported from DTLS are made of, and what protecting a packet appends. */
typedef struct {
  const char *arg;     /* --srtp value */
  const char *name;    /* OpenSSL's (and RFC 5764's / RFC 7714's) profile name */
  unsigned long id;    /* SRTP_* from openssl/srtp.h */
  int key_len, salt_len, tag_len, aead;
} srtp_profile;

static const srtp_profile srtp_profiles[] = {
  { "gcm256", "SRTP_AEAD_AES_256_GCM", SRTP_AEAD_AES_256_GCM, 32, 12, 16, 1 },
  { "gcm128", "SRTP_AEAD_AES_128_GCM", SRTP_AEAD_AES_128_GCM, 16, 12, 16, 1 },
  { "sha1_80", "SRTP_AES128_CM_SHA1_80", SRTP_AES128_CM_SHA1_80, 16, 14, 10, 0 },
};
#define PROFILE_GCM256 (&srtp_profiles[0])
#define PROFILE_GCM128 (&srtp_profiles[1])
#define PROFILE_SHA1_80 (&srtp_profiles[2])
static const srtp_profile *srtp_profile_used = PROFILE_GCM256; /* this process's: --srtp */

/* One direction and one of RTP/RTCP of an SRTP crypto context: session keys derived once. */
typedef struct {
  const srtp_profile *p;
  EVP_CIPHER_CTX *aes; /* keyed with the session key, the IV set per packet: AES-128-CTR, or
                          AES-128/256-GCM for the AEAD profiles */
  EVP_MAC_CTX *mac;    /* HMAC-SHA1 keyed with the session auth key, re-initialised per packet
                          (AES-CM only: GCM authenticates itself) */
  uint8_t salt[14];    /* session salt: 14 bytes (AES-CM), 12 (GCM) */
} srtp_dir;

typedef struct {
  int video, layer;
  uint32_t ssrc;
  uint8_t pt;
  double rate, fps;
  int size;
  uint16_t seq;
  uint32_t roc, ts0, srtcp_index;
  uint16_t picture_id;
  uint8_t tl0;
  uint64_t frame, packets, octets;
  int64_t last_key_us;
  int force_key;
  int off; /* video: turned off by `layers` (sends nothing, not even sender reports) */
} stream_t;

typedef struct {
  char id[64];
  int fd, send_role;
  enum state st;
  char remote_ufrag[128], remote_pwd[128], local_ufrag[16];
  uint8_t txid[12];
  uint64_t tiebreaker;
  int64_t t_add, t_ice, t_ready, next_stun_us, deadline_us, media_start_us, next_sr_us, key_interval_us;
  SSL *ssl;
  BIO *rbio, *wbio;
  srtp_dir rtp, rtcp;
  int nstreams;
  stream_t streams[MAX_STREAMS];
  uint64_t tx_pkts, tx_bytes, tx_rtcp, key_frames, tx_errors, late;
  uint64_t rx_rtp, rx_bytes, rx_rtcp, rx_pli, rx_fir, rx_reordered;
  int n_rx_ssrcs;
  struct { uint32_t ssrc; uint64_t n; uint16_t last_seq; } rx_ssrcs[MAX_RX_SSRCS];
  int audio_pt; /* recv: payload type of forwarded audio (apt=), -1: no latency measurement */
} session_t;

static session_t *sessions[MAX_SESSIONS];
static int nsessions;
static int epfd;
static SSL_CTX *ssl_ctx;
static EVP_CIPHER *aes_ctr, *aes256_ctr, *aes_gcm, *aes256_gcm;
static EVP_MAC *hmac_alg;
static uint8_t random_pool[PKT_MAX];
static uint32_t crc_table[256];

/* Scratch for batched sends (single-threaded: one session's batch at a time). */
static uint8_t txbuf[BATCH][PKT_MAX];
static struct iovec txiov[BATCH];
static struct mmsghdr txmsg[BATCH];
static int64_t txaudio[BATCH]; /* per slot: an audio packet's RTP timestamp, or -1 */
static int ntx;

/* Latency (see the top of the file). One table for all senders, indexed by a hash of the RTP
 * timestamp: a lookup costs the same whatever the number of senders (timestamps start at
 * random, so two senders sharing one is unlikely; a slot overwritten before its packet came
 * back is counted as a miss, not mismeasured). */
static struct { uint32_t ts; int64_t ns; } lat_tab[1 << LAT_TAB_BITS];
static uint64_t lat_hist[LAT_BUCKETS], lat_count, lat_miss, lat_max;

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t real_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void emit(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stdout, fmt, ap);
  va_end(ap);
  fputc('\n', stdout);
  fflush(stdout);
}

static void die(const char *what) {
  fprintf(stderr, "loadgen: %s\n", what);
  ERR_print_errors_fp(stderr);
  exit(1);
}

static void put16(uint8_t *p, uint16_t v) { p[0] = v >> 8; p[1] = v; }
static void put32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint32_t rand32(void) { uint32_t v; RAND_bytes((uint8_t *)&v, 4); return v; }

/* ---- SRTP ---------------------------------------------------------------------------------- *
 * RFC 3711 (AES-128 counter mode, HMAC-SHA1 cut to 80 bits) and RFC 7714 (AEAD AES-GCM, 128 or
 * 256-bit keys, 16-byte tag). Both derive session keys with RFC 3711's AES-CM PRF. */

/* Key derivation with key_derivation_rate 0: the AES-CM keystream of the master key (AES-128 or,
 * for a 32-byte master key, AES-256: RFC 6188), from IV = (master salt XOR label at byte 7) ||
 * 0x0000. salt: 14 bytes; GCM's 12-byte master salt is zero-padded to 14 first (as libsrtp does:
 * RFC 7714 section 11 keeps RFC 3711's 112-bit PRF input). */
static void srtp_kdf(const uint8_t *key, int key_len, const uint8_t salt[14], uint8_t label, uint8_t *out, int len) {
  uint8_t iv[16] = { 0 }, zero[32] = { 0 };
  int n;
  memcpy(iv, salt, 14);
  iv[7] ^= label;
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  if (!c || !EVP_EncryptInit_ex2(c, key_len == 32 ? aes256_ctr : aes_ctr, key, iv, NULL) || !EVP_EncryptUpdate(c, out, &n, zero, len)) die("srtp kdf");
  EVP_CIPHER_CTX_free(c);
}

/* From session keys: k (cipher key, p->key_len bytes), a (20-byte auth key, AES-CM only), s (salt,
 * 14 bytes for AES-CM, 12 for GCM). */
static void srtp_dir_keys(srtp_dir *d, const srtp_profile *p, const uint8_t *k, const uint8_t *a, const uint8_t *s) {
  memset(d, 0, sizeof *d);
  d->p = p;
  memcpy(d->salt, s, p->aead ? 12 : 14);
  d->aes = EVP_CIPHER_CTX_new();
  if (!d->aes) die("srtp init");
  if (p->aead) {
    /* GCM's default IV length is the 12 bytes RFC 7714 uses; the tag is read after each packet. */
    if (!EVP_EncryptInit_ex2(d->aes, p->key_len == 32 ? aes256_gcm : aes_gcm, k, NULL, NULL)) die("srtp init (gcm)");
    return;
  }
  d->mac = EVP_MAC_CTX_new(hmac_alg);
  OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0), OSSL_PARAM_construct_end() };
  if (!d->mac || !EVP_EncryptInit_ex2(d->aes, aes_ctr, k, NULL, NULL) || !EVP_MAC_init(d->mac, a, 20, params)) die("srtp init");
}

/* From the master key and salt (p->key_len and p->salt_len bytes, as DTLS-SRTP exports them). */
static void srtp_dir_init(srtp_dir *d, const srtp_profile *p, const uint8_t *key, const uint8_t *salt, int rtcp) {
  uint8_t ms[14] = { 0 }, k[32], a[20] = { 0 }, s[14];
  uint8_t base = rtcp ? 3 : 0; /* labels: 0/3 cipher key, 1/4 auth key, 2/5 salt */
  memcpy(ms, salt, p->salt_len);
  srtp_kdf(key, p->key_len, ms, base, k, p->key_len);
  if (!p->aead) srtp_kdf(key, p->key_len, ms, base + 1, a, 20);
  srtp_kdf(key, p->key_len, ms, base + 2, s, p->salt_len);
  srtp_dir_keys(d, p, k, a, s);
  OPENSSL_cleanse(k, sizeof k);
  OPENSSL_cleanse(a, sizeof a);
}

static void srtp_dir_free(srtp_dir *d) {
  EVP_CIPHER_CTX_free(d->aes);
  EVP_MAC_CTX_free(d->mac);
  d->aes = NULL;
  d->mac = NULL;
}

/* XORs the AES-CM keystream for (ssrc, index) into buf: IV = salt<<16 ^ ssrc<<64 ^ index<<16.
 * index_bytes: 6 for SRTP's 48-bit packet index, 4 for SRTCP's 31-bit index. */
static void srtp_crypt(srtp_dir *d, uint32_t ssrc, uint64_t index, int index_bytes, uint8_t *buf, int len) {
  uint8_t iv[16] = { 0 };
  int n;
  memcpy(iv, d->salt, 14);
  for (int i = 0; i < 4; i++) iv[4 + i] ^= ssrc >> (24 - 8 * i);
  for (int i = 0; i < index_bytes; i++) iv[13 - i] ^= index >> (8 * i);
  EVP_EncryptInit_ex2(d->aes, NULL, NULL, iv, NULL);
  EVP_EncryptUpdate(d->aes, buf, &n, buf, len);
}

static void srtp_tag(srtp_dir *d, const uint8_t *data, int len, const uint8_t *extra, int extra_len, uint8_t *tag) {
  uint8_t full[20];
  size_t outl;
  EVP_MAC_init(d->mac, NULL, 0, NULL); /* same key: restores the precomputed HMAC state */
  EVP_MAC_update(d->mac, data, len);
  if (extra_len) EVP_MAC_update(d->mac, extra, extra_len);
  EVP_MAC_final(d->mac, full, &outl, sizeof full);
  memcpy(tag, full, 10);
}

/* AEAD AES-GCM (RFC 7714): IV = iv_in XOR the 12-byte session salt; aad then aad2 authenticated;
 * buf encrypted in place; the 16-byte tag written to tag. */
static void srtp_gcm(srtp_dir *d, const uint8_t iv_in[12], const uint8_t *aad, int aad_len, const uint8_t *aad2, int aad2_len,
                     uint8_t *buf, int len, uint8_t *tag) {
  uint8_t iv[12];
  int n;
  for (int i = 0; i < 12; i++) iv[i] = iv_in[i] ^ d->salt[i];
  EVP_EncryptInit_ex2(d->aes, NULL, NULL, iv, NULL); /* same key: only the IV (and GHASH state) reset */
  EVP_EncryptUpdate(d->aes, NULL, &n, aad, aad_len);
  if (aad2_len) EVP_EncryptUpdate(d->aes, NULL, &n, aad2, aad2_len);
  if (len) EVP_EncryptUpdate(d->aes, buf, &n, buf, len);
  EVP_EncryptFinal_ex(d->aes, buf + len, &n); /* GCM writes nothing here */
  EVP_CIPHER_CTX_ctrl(d->aes, EVP_CTRL_AEAD_GET_TAG, 16, tag);
}

/* The RTP header's length: 12 bytes, the CSRCs, the extension (RFC 3550 section 5.3.1). */
static int rtp_header_len(const uint8_t *pkt, int len) {
  int h = 12 + 4 * (pkt[0] & 0x0f);
  if ((pkt[0] & 0x10) && h + 4 <= len) h += 4 + 4 * (pkt[h + 2] << 8 | pkt[h + 3]);
  return h <= len ? h : len;
}

/* pkt: an RTP packet of the stream st (roc: its rollover counter); appends the tag; returns the
 * protected length. AES-CM: payload encrypted, HMAC over the packet and the ROC. GCM: IV =
 * (0x0000 || SSRC || ROC || SEQ) XOR salt, AAD = the header, payload encrypted, tag appended. */
static int srtp_protect(srtp_dir *d, stream_t *st, uint8_t *pkt, int len) {
  uint8_t roc[4];
  uint16_t seq = (uint16_t)(pkt[2] << 8 | pkt[3]);
  int h = rtp_header_len(pkt, len);
  if (d->p->aead) {
    uint8_t iv[12] = { 0 };
    memcpy(iv + 2, pkt + 8, 4);
    put32(iv + 6, st->roc);
    put16(iv + 10, seq);
    srtp_gcm(d, iv, pkt, h, NULL, 0, pkt + h, len - h, pkt + len);
    return len + 16;
  }
  srtp_crypt(d, get32(pkt + 8), (uint64_t)st->roc << 16 | seq, 6, pkt + h, len - h);
  put32(roc, st->roc);
  srtp_tag(d, pkt, len, roc, 4, pkt + len);
  return len + 10;
}

/* pkt: RTCP (one packet or a compound), its first 8 bytes (header and sender SSRC) left in the
 * clear; the rest encrypted with SRTCP index ++st->srtcp_index (the first is 1). AES-CM: appends
 * E-flag|index, then the HMAC of all that. GCM (RFC 7714 section 9): IV = (0x0000 || SSRC ||
 * 0x0000 || index) XOR salt, AAD = the 8 bytes and the E-flag|index word, then appends the tag,
 * then the E-flag|index word. Returns the protected length. */
static int srtcp_protect(srtp_dir *d, stream_t *st, uint8_t *pkt, int len) {
  uint32_t index = ++st->srtcp_index & 0x7fffffff;
  if (d->p->aead) {
    uint8_t iv[12] = { 0 }, trailer[4];
    memcpy(iv + 2, pkt + 4, 4);
    put32(iv + 8, index);
    put32(trailer, 0x80000000u | index);
    srtp_gcm(d, iv, pkt, 8, trailer, 4, pkt + 8, len - 8, pkt + len);
    memcpy(pkt + len + 16, trailer, 4);
    return len + 16 + 4;
  }
  srtp_crypt(d, get32(pkt + 4), index, 4, pkt + 8, len - 8);
  put32(pkt + len, 0x80000000u | index);
  srtp_tag(d, pkt, len + 4, NULL, 0, pkt + len + 4);
  return len + 4 + 10;
}

static int hexcmp(const uint8_t *b, int n, const char *hex) {
  char s[256];
  for (int i = 0; i < n && i < 127; i++) sprintf(s + 2 * i, "%02X", b[i]);
  return strcasecmp(s, hex);
}

static int unhex(const char *hex, uint8_t *out) {
  int n = 0;
  for (; hex[0] && hex[1]; hex += 2) sscanf(hex, "%2hhx", &out[n++]);
  return n;
}

/* One known-answer check: prints what failed. */
static int check(const char *what, const uint8_t *got, int n, const char *want) {
  int bad = (int)strlen(want) != 2 * n || hexcmp(got, n, want) != 0;
  if (bad) fprintf(stderr, "selftest: %s does not match\n", what);
  return bad;
}

/* RFC 7714 sections 16 and 17 (session key and salt given; SRTCP index 0x5d4), for one key size. */
static int selftest_rfc7714(const srtp_profile *p, const char *key, const char *srtp, const char *srtcp) {
  uint8_t k[32], s[12], pkt[128];
  int bad = 0, len;
  unhex(key, k);
  unhex("517569642070726F2071756F", s);
  srtp_dir d;
  srtp_dir_keys(&d, p, k, NULL, s);
  stream_t st = { .ssrc = 0x5501a0b2, .roc = 0 };
  len = unhex("8040F17B8041F8D35501A0B247616C6C696120657374206F6D6E69732064697669736120696E207061727465732074726573", pkt);
  len = srtp_protect(&d, &st, pkt, len);
  char what[64];
  snprintf(what, sizeof what, "RFC 7714 %s SRTP packet", p->name);
  bad |= check(what, pkt, len, srtp);
  len = unhex("81C8000D4D6172734E5450314E545032525450200000042A0000E9304C756E61DEADBEEFDEADBEEFDEADBEEFDEADBEEFDEADBEEF", pkt);
  st.srtcp_index = 0x5d4 - 1;
  len = srtcp_protect(&d, &st, pkt, len);
  snprintf(what, sizeof what, "RFC 7714 %s SRTCP packet", p->name);
  bad |= check(what, pkt, len, srtcp);
  srtp_dir_free(&d);
  return bad;
}

static int selftest(void) {
  uint8_t mk[32], ms[14], k[32], a[20], s[14];
  int bad = 0;
  /* RFC 3711 B.3: AES-128 key derivation. */
  unhex("E1F97A0D3E018BE0D64FA32C06DE4139", mk);
  unhex("0EC675AD498AFEEBB6960B3AABE6", ms);
  srtp_kdf(mk, 16, ms, 0, k, 16);
  srtp_kdf(mk, 16, ms, 1, a, 20);
  srtp_kdf(mk, 16, ms, 2, s, 14);
  bad |= check("RFC 3711 B.3 cipher key", k, 16, "C61E7A93744F39EE10734AFE3FF7A087");
  bad |= check("RFC 3711 B.3 auth key", a, 20, "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4");
  bad |= check("RFC 3711 B.3 salt", s, 14, "30CBBC08863D8C85D49DB34A9AE1");
  /* RFC 6188 7.2: AES-256 key derivation (GCM-256's, with its salt zero-padded). */
  unhex("F0F04914B513F2763A1B1FA130F10E2998F6F6E43E4309D1E622A0E332B9F1B6", mk);
  unhex("3B04803DE51EE7C96423AB5B78D2", ms);
  srtp_kdf(mk, 32, ms, 0, k, 32);
  srtp_kdf(mk, 32, ms, 2, s, 14);
  bad |= check("RFC 6188 7.2 cipher key", k, 32, "5BA1064E30EC51613CAD926C5A28EF731EC7FB397F70A960653CAF06554CD8C4");
  bad |= check("RFC 6188 7.2 salt", s, 14, "FA31791685CA444A9E07C6C64E93");
  /* RFC 3711 B.2: AES-CM keystream. */
  srtp_dir d = { 0 };
  unhex("2B7E151628AED2A6ABF7158809CF4F3C", k);
  d.aes = EVP_CIPHER_CTX_new();
  EVP_EncryptInit_ex2(d.aes, aes_ctr, k, NULL, NULL);
  for (int i = 0; i < 14; i++) d.salt[i] = 0xF0 + i;
  uint8_t z[32] = { 0 };
  srtp_crypt(&d, 0, 0, 6, z, 32);
  bad |= check("RFC 3711 B.2 keystream", z, 32, "E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB");
  EVP_CIPHER_CTX_free(d.aes);
  /* RFC 7714 16.1.1 / 17.1 (AEAD_AES_128_GCM) and 16.2.1 / 17.2 (AEAD_AES_256_GCM). */
  bad |= selftest_rfc7714(PROFILE_GCM128, "000102030405060708090A0B0C0D0E0F",
                          "8040F17B8041F8D35501A0B2F24DE3A3FB34DE6CACBA861C9D7E4BCABE633BD50D294E6F42A5F47A51C7D19B36DE3ADF8833899D7F27BEB16A9152CF765EE4390CCE",
                          "81C8000D4D61727363E94885DCDAB67CA727D7662F6B7E997FF5C0F76C06F32DC676A5F1730D6FDA4CE09B4686303DED0BB9275BC84AA45896CF4D2FC5ABF87245D9EADE800005D4");
  bad |= selftest_rfc7714(PROFILE_GCM256, "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
                          "8040F17B8041F8D35501A0B232B1DE78A822FE12EF9F78FA332E33AAB18012389A58E2F3B50B2A0276FFAE0F1BA63799B87B7AA3DB36DFFFD6B0F9BB7878D7A76C13",
                          "81C8000D4D617273D50AE4D1F5CE5D304BA297E47D470C282C3ECE5DBFFE0A50A2EAA5C1110555BE8415F658C61DE0476F1B6FAD1D1EB30C4446839F57FF6F6CB26AC3BE800005D4");
  /* libsrtp's srtp_validate_gcm: master key and 12-byte master salt, derived, then the first SRTP
   * packet and the first SRTCP packet (index 1) of SSRC 0xcafebabe. */
  uint8_t pkt[128];
  int len;
  unhex("000102030405060708090A0B0C0D0E0F", mk);
  unhex("A0A1A2A3A4A5A6A7A8A9AAAB", ms);
  srtp_dir rtp, rtcp;
  srtp_dir_init(&rtp, PROFILE_GCM128, mk, ms, 0);
  srtp_dir_init(&rtcp, PROFILE_GCM128, mk, ms, 1);
  stream_t st = { .ssrc = 0xcafebabe };
  len = unhex("800F1234DECAFBADCAFEBABEABABABABABABABABABABABABABABABAB", pkt);
  len = srtp_protect(&rtp, &st, pkt, len);
  bad |= check("libsrtp GCM SRTP reference packet", pkt, len, "800F1234DECAFBADCAFEBABEC5002EDE04CFDD2EB91159E0880AA06ED2976826F796B201DF3131A127E8A392");
  len = unhex("81C8000BCAFEBABEABABABABABABABABABABABABABABABAB", pkt);
  len = srtcp_protect(&rtcp, &st, pkt, len);
  bad |= check("libsrtp GCM SRTCP reference packet", pkt, len, "81C8000BCAFEBABEC98B8B5DF0392A55852B6C21AC8E7025C52C6FBEA2B3B446EA31123BA88CE61E80000001");
  srtp_dir_free(&rtp);
  srtp_dir_free(&rtcp);
  printf("selftest %s\n", bad ? "FAILED" : "ok");
  return bad;
}

/* ---- STUN (RFC 5389 / 8445): binding requests as the controlling agent --------------------- */

static uint32_t crc32(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n--) c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

static size_t stun_attr(uint8_t *b, size_t off, uint16_t type, const void *val, uint16_t len) {
  put16(b + off, type);
  put16(b + off + 2, len);
  memcpy(b + off + 4, val, len);
  size_t padded = (len + 3u) & ~3u;
  memset(b + off + 4 + len, 0, padded - len);
  return off + 4 + padded;
}

static void send_raw(session_t *s, const uint8_t *b, size_t len) {
  if (send(s->fd, b, len, 0) < 0) s->tx_errors++;
}

static void stun_send_binding(session_t *s, int retransmit) {
  uint8_t b[512], v[8];
  char user[260];
  if (!retransmit) RAND_bytes(s->txid, 12);
  put16(b, 0x0001); /* Binding request */
  put32(b + 4, 0x2112A442);
  memcpy(b + 8, s->txid, 12);
  size_t off = 20;
  int ulen = snprintf(user, sizeof user, "%s:%s", s->remote_ufrag, s->local_ufrag);
  off = stun_attr(b, off, 0x0006, user, (uint16_t)ulen); /* USERNAME */
  put32(v, (126u << 24) | (65535u << 8) | 255u);             /* PRIORITY of a host candidate */
  off = stun_attr(b, off, 0x0024, v, 4);
  for (int i = 0; i < 8; i++) v[i] = (uint8_t)(s->tiebreaker >> (56 - 8 * i));
  off = stun_attr(b, off, 0x802A, v, 8); /* ICE-CONTROLLING */
  off = stun_attr(b, off, 0x0025, v, 0); /* USE-CANDIDATE */
  /* MESSAGE-INTEGRITY covers the message up to itself, with the length already counting it. */
  uint8_t mac[20];
  unsigned maclen;
  put16(b + 2, (uint16_t)(off + 24 - 20));
  HMAC(EVP_sha1(), s->remote_pwd, (int)strlen(s->remote_pwd), b, off, mac, &maclen);
  off = stun_attr(b, off, 0x0008, mac, 20);
  put16(b + 2, (uint16_t)(off + 8 - 20));
  put32(v, crc32(b, off) ^ 0x5354554eu); /* FINGERPRINT */
  off = stun_attr(b, off, 0x8028, v, 4);
  send_raw(s, b, off);
}

/* ---- Latency ------------------------------------------------------------------------------- */

static uint32_t lat_slot(uint32_t ts) { return (ts * 2654435761u) >> (32 - LAT_TAB_BITS); } /* Fibonacci hash */

/* Log-linear buckets: below 128 ns one per ns; above, LAT_SUB per power of two. */
static unsigned lat_bucket(uint64_t ns) {
  if (ns < 2 * LAT_SUB) return (unsigned)ns;
  unsigned shift = 63 - (unsigned)__builtin_clzll(ns) - 6; /* ns >> shift is in [64, 128) */
  unsigned b = shift * LAT_SUB + (unsigned)(ns >> shift);
  return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* The middle of a bucket, in µs. */
static double lat_bucket_us(unsigned b) {
  if (b < 2 * LAT_SUB) return b / 1000.0;
  unsigned shift = b / LAT_SUB - 1;
  return ((double)((uint64_t)(b - shift * LAT_SUB) << shift) + (double)(1ull << shift) / 2) / 1000.0;
}

static void lat_received(const uint8_t *rtp, int64_t rx_ns) {
  uint32_t ts = get32(rtp + 4);
  int64_t d = rx_ns - lat_tab[lat_slot(ts)].ns;
  if (lat_tab[lat_slot(ts)].ts != ts || d < 0 || d > LAT_MAX_AGE_NS) { lat_miss++; return; }
  lat_hist[lat_bucket((uint64_t)d)]++;
  lat_count++;
  if ((uint64_t)d > lat_max) lat_max = (uint64_t)d;
}

/* Writes "null" or the q-quantile in µs (the bucket's middle, at most the maximum). */
static void lat_print_quantile(double q) {
  if (!lat_count) { printf("null"); return; }
  uint64_t want = (uint64_t)ceil(q * lat_count), sum = 0;
  unsigned b = 0;
  while ((sum += lat_hist[b]) < want) b++;
  double v = lat_bucket_us(b);
  printf("%.1f", v < lat_max / 1000.0 ? v : lat_max / 1000.0);
}

/* ---- Sessions ------------------------------------------------------------------------------ */

static void fail(session_t *s, const char *reason) {
  if (s->st == ST_FAILED) return;
  s->st = ST_FAILED;
  emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"%s\"}", s->id, reason);
}

/* Sends what OpenSSL wrote, cut into datagrams of whole DTLS records of at most MTU bytes. */
static void dtls_flush(session_t *s) {
  uint8_t buf[16384];
  int n;
  while ((n = BIO_read(s->wbio, buf, sizeof buf)) > 0) {
    int start = 0, pos = 0;
    while (pos + 13 <= n) {
      int rec = 13 + (buf[pos + 11] << 8 | buf[pos + 12]);
      if (pos + rec > n) rec = n - pos;
      if (pos + rec - start > MTU && pos > start) {
        send_raw(s, buf + start, pos - start);
        start = pos;
      }
      pos += rec;
    }
    if (n > start) send_raw(s, buf + start, n - start);
  }
}

static void start_media(session_t *s, int64_t now) {
  s->media_start_us = now;
  s->next_sr_us = now + 200000; /* after the first packets: mediasoup ignores SRs of unknown SSRCs */
  for (int i = 0; i < s->nstreams; i++) {
    stream_t *st = &s->streams[i];
    st->force_key = 1;
    st->last_key_us = now;
  }
}

static void dtls_progress(session_t *s, int64_t now) {
  int r = SSL_do_handshake(s->ssl);
  dtls_flush(s);
  if (r == 1) {
    const SRTP_PROTECTION_PROFILE *sel = SSL_get_selected_srtp_profile(s->ssl);
    const srtp_profile *p = srtp_profile_used;
    uint8_t km[2 * (32 + 14)];
    int klen = 2 * (p->key_len + p->salt_len);
    if (!sel || sel->id != p->id) {
      char reason[80];
      snprintf(reason, sizeof reason, "no %s negotiated", p->name);
      fail(s, reason);
      return;
    }
    if (!SSL_export_keying_material(s->ssl, km, (size_t)klen, "EXTRACTOR-dtls_srtp", 19, NULL, 0, 0)) { fail(s, "keying material export failed"); return; }
    /* RFC 5764 4.2: client key, server key, client salt, server salt. We are the client and
     * only send: the client's key and salt. */
    srtp_dir_init(&s->rtp, p, km, km + 2 * p->key_len, 0);
    srtp_dir_init(&s->rtcp, p, km, km + 2 * p->key_len, 1);
    OPENSSL_cleanse(km, sizeof km);
    s->st = ST_READY;
    s->t_ready = now;
    s->next_stun_us = now + KEEPALIVE_US;
    if (s->send_role) start_media(s, now);
    emit("{\"event\":\"ready\",\"id\":\"%s\",\"iceMs\":%.1f,\"dtlsMs\":%.1f}", s->id, (s->t_ice - s->t_add) / 1000.0, (now - s->t_ice) / 1000.0);
    return;
  }
  int e = SSL_get_error(s->ssl, r);
  if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
    char reason[200];
    const char *why = ERR_reason_error_string(ERR_peek_last_error());
    snprintf(reason, sizeof reason, "DTLS handshake failed: %s", why ? why : "unknown");
    ERR_clear_error();
    fail(s, reason);
  }
}

static void on_stun(session_t *s, const uint8_t *b, int len, int64_t now) {
  if (len < 20 || get32(b + 4) != 0x2112A442) return;
  uint16_t type = (uint16_t)(b[0] << 8 | b[1]);
  if (s->st != ST_ICE || memcmp(b + 8, s->txid, 12) != 0) return; /* keepalive answers: nothing to do */
  if (type == 0x0111) { /* error response: report its ERROR-CODE (e.g. 401: wrong ICE password) */
    int code = 0, end = 20 + (b[2] << 8 | b[3]);
    for (int off = 20; off + 4 <= end && off + 4 <= len;) {
      int alen = b[off + 2] << 8 | b[off + 3];
      if ((b[off] << 8 | b[off + 1]) == 0x0009 && alen >= 4 && off + 8 <= len) code = (b[off + 6] & 7) * 100 + b[off + 7];
      off += 4 + ((alen + 3) & ~3);
    }
    char reason[64];
    snprintf(reason, sizeof reason, "ICE binding error response %d", code);
    fail(s, reason);
    return;
  }
  if (type != 0x0101) return;
  s->st = ST_DTLS;
  s->t_ice = now;
  s->deadline_us = now + DTLS_TIMEOUT_US;
  s->next_stun_us = now + KEEPALIVE_US;
  dtls_progress(s, now);
}

static void on_dtls(session_t *s, const uint8_t *b, int len, int64_t now) {
  BIO_write(s->rbio, b, len);
  if (s->st == ST_DTLS) { dtls_progress(s, now); return; }
  uint8_t sink[2048];
  while (SSL_read(s->ssl, sink, sizeof sink) > 0) {
  }
  ERR_clear_error();
  dtls_flush(s);
  if (SSL_get_shutdown(s->ssl) & SSL_RECEIVED_SHUTDOWN) fail(s, "DTLS closed by the server");
}

static void on_srtp(session_t *s, const uint8_t *b, int len, int64_t now, int64_t rx_ns) {
  if (len < 8) return;
  if (b[1] >= 192 && b[1] <= 223) { /* RTCP (RFC 5761); the first header stays in the clear */
    s->rx_rtcp++;
    int fmt = b[0] & 0x1f;
    int key = b[1] == 206 && (fmt == 1 || fmt == 4);
    if (key && fmt == 1) s->rx_pli++;
    if (key && fmt == 4) s->rx_fir++;
    /* Which SSRC it asks about is encrypted: answer with a key frame on every video stream. */
    for (int i = 0; key && i < s->nstreams; i++)
      if (s->streams[i].video && !s->streams[i].off && now - s->streams[i].last_key_us > 200000) s->streams[i].force_key = 1;
    return;
  }
  if (len < 12) return;
  s->rx_rtp++;
  s->rx_bytes += len;
  if ((b[1] & 0x7f) == s->audio_pt) lat_received(b, rx_ns);
  uint32_t ssrc = get32(b + 8);
  uint16_t seq = (uint16_t)(b[2] << 8 | b[3]);
  for (int i = 0; i < s->n_rx_ssrcs; i++)
    if (s->rx_ssrcs[i].ssrc == ssrc) {
      s->rx_ssrcs[i].n++;
      /* Not after the previous one (modulo 2^16): the SFU reordered or repeated a packet. */
      if ((int16_t)(uint16_t)(seq - s->rx_ssrcs[i].last_seq) <= 0) s->rx_reordered++;
      s->rx_ssrcs[i].last_seq = seq;
      return;
    }
  if (s->n_rx_ssrcs < MAX_RX_SSRCS) {
    s->rx_ssrcs[s->n_rx_ssrcs].ssrc = ssrc;
    s->rx_ssrcs[s->n_rx_ssrcs].last_seq = seq;
    s->rx_ssrcs[s->n_rx_ssrcs++].n = 1;
  }
}

/* The kernel's receive time of a datagram (SO_TIMESTAMPNS, set on recv sessions), or fallback. */
static int64_t rx_stamp(struct msghdr *h, int64_t fallback) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    }
  return fallback;
}

static void on_readable(session_t *s) {
  static uint8_t rxbuf[BATCH][PKT_MAX];
  static uint8_t rxctl[BATCH][CMSG_SPACE(sizeof(struct timespec))];
  static struct iovec iov[BATCH];
  static struct mmsghdr msgs[BATCH];
  if (!iov[0].iov_base) { /* once: recvmmsg only writes msg_len, msg_flags, msg_controllen back */
    for (int i = 0; i < BATCH; i++) {
      iov[i].iov_base = rxbuf[i];
      iov[i].iov_len = PKT_MAX;
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_control = rxctl[i];
      msgs[i].msg_hdr.msg_controllen = sizeof rxctl[i];
    }
  }
  for (;;) {
    int n = recvmmsg(s->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
    if (n <= 0) return;
    /* Fallback receive time, per batch, if the kernel gave none: late by up to one tick. */
    int64_t now = now_us(), rx_ns = real_ns();
    for (int i = 0; i < n && s->st != ST_FAILED; i++) {
      const uint8_t *b = rxbuf[i];
      int len = (int)msgs[i].msg_len;
      int64_t stamp = rx_stamp(&msgs[i].msg_hdr, rx_ns);
      msgs[i].msg_hdr.msg_controllen = sizeof rxctl[i];
      if (len < 1) continue;
      /* RFC 7983 demultiplexing by the first byte. */
      if (b[0] < 4) on_stun(s, b, len, now);
      else if (b[0] >= 20 && b[0] <= 63) on_dtls(s, b, len, now);
      else if (b[0] >= 128 && b[0] <= 191 && s->st == ST_READY) on_srtp(s, b, len, now, stamp);
    }
    if (n < BATCH) return;
  }
}

/* ---- Media --------------------------------------------------------------------------------- */

/* Sends the batch; notes the send time of its audio packets just before (latency). */
static void tx_flush(session_t *s) {
  if (ntx == 0) return;
  int64_t t = real_ns();
  for (int i = 0; i < ntx; i++) {
    if (txaudio[i] < 0) continue;
    uint32_t ts = (uint32_t)txaudio[i];
    lat_tab[lat_slot(ts)].ts = ts;
    lat_tab[lat_slot(ts)].ns = t;
  }
  int sent = sendmmsg(s->fd, txmsg, ntx, 0);
  if (sent < ntx) s->tx_errors += ntx - (sent < 0 ? 0 : sent);
  ntx = 0;
}

static uint8_t *tx_slot(session_t *s) {
  if (ntx == BATCH) tx_flush(s);
  return txbuf[ntx];
}

/* audio_ts: the RTP timestamp of an audio packet, -1 for anything else. */
static void tx_commit(int len, int64_t audio_ts) {
  txaudio[ntx] = audio_ts;
  txiov[ntx].iov_base = txbuf[ntx];
  txiov[ntx].iov_len = (size_t)len;
  memset(&txmsg[ntx].msg_hdr, 0, sizeof txmsg[ntx].msg_hdr);
  txmsg[ntx].msg_hdr.msg_iov = &txiov[ntx];
  txmsg[ntx].msg_hdr.msg_iovlen = 1;
  ntx++;
}

static uint32_t rtp_ts_at(stream_t *st, double t_s) {
  double clock = st->video ? 90000.0 : 48000.0;
  return st->ts0 + (uint32_t)(uint64_t)llround(t_s * clock);
}

/* One frame: packets floor((k+1)*rate/fps) - floor(k*rate/fps), marker on the last. */
static void send_frame(session_t *s, stream_t *st, int64_t now) {
  uint64_t k = st->frame++;
  int npk = (int)(floor((k + 1) * st->rate / st->fps) - floor(k * st->rate / st->fps));
  uint32_t ts = rtp_ts_at(st, k / st->fps);
  int key = 0;
  if (st->video) {
    key = st->force_key || (s->key_interval_us > 0 && now - st->last_key_us >= s->key_interval_us);
    if (npk > 0 && key) {
      st->force_key = 0;
      st->last_key_us = now;
      s->key_frames++;
    }
    if (npk > 0) {
      st->picture_id = (st->picture_id + 1) & 0x7fff;
      st->tl0++;
    }
  }
  for (int p = 0; p < npk; p++) {
    uint8_t *b = tx_slot(s);
    int marker = st->video ? p == npk - 1 : 0;
    b[0] = 0x80;
    b[1] = (uint8_t)(marker << 7 | st->pt);
    put16(b + 2, st->seq);
    put32(b + 4, ts);
    put32(b + 8, st->ssrc);
    uint8_t *pl = b + 12;
    memcpy(pl, random_pool, st->size);
    if (st->video) {
      /* VP8 payload descriptor (RFC 7741): X, S on a frame's first packet, partition 0; then
       * I (15-bit picture id), L (TL0PICIDX), T (temporal layer 0, Y set). */
      pl[0] = 0x80 | (p == 0 ? 0x10 : 0);
      pl[1] = 0xE0;
      pl[2] = 0x80 | (st->picture_id >> 8);
      pl[3] = st->picture_id & 0xff;
      pl[4] = st->tl0;
      pl[5] = 0x20;
      if (p == 0) {
        /* VP8 payload header: P bit 0 on a key frame, show_frame, 19-bit first partition size. */
        uint32_t part = (uint32_t)(st->size - 16);
        pl[6] = (uint8_t)((key ? 0 : 1) | 0x10 | (part & 7) << 5);
        pl[7] = (uint8_t)(part >> 3);
        pl[8] = (uint8_t)(part >> 11);
        if (key) {
          /* Key frame start code and dimensions (320x180 doubled per layer), little-endian. */
          int w = 320 << st->layer, h = 180 << st->layer;
          pl[9] = 0x9d, pl[10] = 0x01, pl[11] = 0x2a;
          pl[12] = w & 0xff, pl[13] = w >> 8, pl[14] = h & 0xff, pl[15] = h >> 8;
        }
      }
    } else {
      pl[0] = 0x78; /* an Opus TOC byte: SILK wideband 20 ms, mono, one frame */
    }
    int len = 12 + st->size;
    st->packets++;
    st->octets += st->size;
    len = srtp_protect(&s->rtp, st, b, len);
    tx_commit(len, st->video ? -1 : (int64_t)ts);
    s->tx_pkts++;
    s->tx_bytes += len;
    if (++st->seq == 0) st->roc++;
  }
}

/* An RTCP sender report per stream, so that mediasoup can switch simulcast layers (it needs
 * a sender report on both streams to line up their timestamps). */
static void send_sr(session_t *s, stream_t *st, int64_t now) {
  struct timespec wall;
  clock_gettime(CLOCK_REALTIME, &wall);
  uint8_t *b = tx_slot(s);
  b[0] = 0x80;
  b[1] = 200;
  put16(b + 2, 6);
  put32(b + 4, st->ssrc);
  put32(b + 8, (uint32_t)(wall.tv_sec + 2208988800u));
  put32(b + 12, (uint32_t)(((uint64_t)wall.tv_nsec << 32) / 1000000000u));
  put32(b + 16, rtp_ts_at(st, (now - s->media_start_us) / 1e6));
  put32(b + 20, (uint32_t)st->packets);
  put32(b + 24, (uint32_t)st->octets);
  int len = srtcp_protect(&s->rtcp, st, b, 28);
  tx_commit(len, -1);
  s->tx_rtcp++;
}

static void tick(session_t *s, int64_t now) {
  if (s->st == ST_FAILED) return;
  if (s->st == ST_ICE) {
    if (now >= s->deadline_us) { fail(s, "ICE timeout (no binding response)"); return; }
    if (now >= s->next_stun_us) {
      stun_send_binding(s, s->next_stun_us != 0);
      s->next_stun_us = now + ICE_RETRY_US;
    }
    return;
  }
  if (s->st == ST_DTLS) {
    struct timeval tv;
    if (now >= s->deadline_us) { fail(s, "DTLS timeout"); return; }
    if (DTLSv1_get_timeout(s->ssl, &tv) && tv.tv_sec == 0 && tv.tv_usec == 0) {
      DTLSv1_handle_timeout(s->ssl);
      dtls_flush(s);
    }
    return;
  }
  if (now >= s->next_stun_us) { /* keepalive / consent */
    stun_send_binding(s, 0);
    s->next_stun_us = now + KEEPALIVE_US;
  }
  if (!s->send_role) return;
  for (int i = 0; i < s->nstreams; i++) {
    stream_t *st = &s->streams[i];
    if (st->off) continue;
    int64_t due = s->media_start_us + (int64_t)(st->frame * 1e6 / st->fps);
    if (now - due > 1000000) { /* more than a second behind (overloaded): skip, do not burst */
      uint64_t skip = (uint64_t)((now - s->media_start_us) / 1e6 * st->fps) - st->frame;
      st->frame += skip;
      s->late += skip;
      due = s->media_start_us + (int64_t)(st->frame * 1e6 / st->fps);
    }
    while (due <= now) {
      send_frame(s, st, now);
      due = s->media_start_us + (int64_t)(st->frame * 1e6 / st->fps);
    }
  }
  if (now >= s->next_sr_us) {
    for (int i = 0; i < s->nstreams; i++)
      if (!s->streams[i].off) send_sr(s, &s->streams[i], now);
    s->next_sr_us = now + SR_INTERVAL_US;
  }
  tx_flush(s);
}

/* ---- Commands ------------------------------------------------------------------------------ */

static session_t *find(const char *id) {
  for (int i = 0; i < nsessions; i++)
    if (strcmp(sessions[i]->id, id) == 0) return sessions[i];
  return NULL;
}

static void free_session(session_t *s) {
  if (s->fd >= 0) close(s->fd);
  if (s->ssl) SSL_free(s->ssl); /* frees both BIOs */
  srtp_dir_free(&s->rtp);
  srtp_dir_free(&s->rtcp);
  free(s);
}

static int valid_id(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n >= 64) return 0;
  for (size_t i = 0; i < n; i++)
    if (!(isalnum((unsigned char)id[i]) || strchr("_.-:", id[i]))) return 0;
  return 1;
}

static int parse_stream(const char *spec, stream_t *st) {
  char kind[8];
  unsigned ssrc, pt;
  double rate, fps = 0;
  int size, n = sscanf(spec, "%7[a-z],%u,%u,%lf,%d,%lf", kind, &ssrc, &pt, &rate, &size, &fps);
  if (n < 5 || pt > 127 || rate <= 0 || rate > MAX_RATE || size < MIN_PAYLOAD || size > MAX_PAYLOAD) return 0;
  memset(st, 0, sizeof *st);
  if (strcmp(kind, "video") == 0) st->video = 1;
  else if (strcmp(kind, "audio") != 0 || n == 6) return 0;
  st->ssrc = ssrc;
  st->pt = (uint8_t)pt;
  st->rate = rate;
  st->size = size;
  /* Audio: one packet per frame. Video: 30 fps unless told, never more frames than packets. */
  st->fps = st->video ? (n == 6 && fps > 0 ? fps : 30) : rate;
  if (st->fps > rate) st->fps = rate;
  st->seq = (uint16_t)rand32();
  st->ts0 = rand32();
  st->picture_id = rand32() & 0x7fff;
  st->tl0 = (uint8_t)rand32();
  return 1;
}

static void cmd_add(char **tok, int ntok) {
  const char *id = ntok > 1 ? tok[1] : "";
  if (!valid_id(id)) { emit("{\"event\":\"failed\",\"id\":\"\",\"reason\":\"bad or missing id\"}"); return; }
  if (ntok < 7) { emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"usage: add <id> send|recv <ip> <port> <ufrag> <pwd> [key=<ms>] [streams]\"}", id); return; }
  if (find(id)) { emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"duplicate id\"}", id); return; }
  if (nsessions == MAX_SESSIONS) { emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"too many sessions\"}", id); return; }
  struct sockaddr_in addr = { .sin_family = AF_INET };
  int port = atoi(tok[4]);
  /* Loopback only: this is a load generator, it must not be pointed at other hosts. */
  if (inet_pton(AF_INET, tok[3], &addr.sin_addr) != 1 || (ntohl(addr.sin_addr.s_addr) >> 24) != 127 || port <= 0 || port > 65535)
    { emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"server must be a 127.x.x.x address and a port\"}", id); return; }
  addr.sin_port = htons((uint16_t)port);
  if (strlen(tok[5]) >= 128 || strlen(tok[6]) >= 128 || strchr(tok[5], '"') || strchr(tok[6], '"'))
    { emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"bad ICE parameters\"}", id); return; }
  session_t *s = calloc(1, sizeof *s);
  if (!s) die("out of memory");
  s->fd = -1;
  snprintf(s->id, sizeof s->id, "%s", id);
  s->send_role = strcmp(tok[2], "send") == 0;
  if (!s->send_role && strcmp(tok[2], "recv") != 0) goto bad_role;
  strcpy(s->remote_ufrag, tok[5]);
  strcpy(s->remote_pwd, tok[6]);
  s->key_interval_us = 1000000;
  s->audio_pt = -1;
  int layers_on = MAX_STREAMS;
  for (int i = 7; i < ntok; i++) {
    if (strncmp(tok[i], "key=", 4) == 0) {
      s->key_interval_us = (int64_t)atoi(tok[i] + 4) * 1000;
      continue;
    }
    if (strncmp(tok[i], "apt=", 4) == 0 && !s->send_role) {
      s->audio_pt = atoi(tok[i] + 4) & 0x7f;
      continue;
    }
    if (strncmp(tok[i], "layers=", 7) == 0 && s->send_role) {
      layers_on = atoi(tok[i] + 7);
      continue;
    }
    if (!s->send_role || s->nstreams == MAX_STREAMS || !parse_stream(tok[i], &s->streams[s->nstreams])) {
      emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"bad stream #%d (or streams on a recv session, or more than %d)\"}", id, i - 6, MAX_STREAMS);
      { free_session(s); return; }
    }
    stream_t *st = &s->streams[s->nstreams++];
    if (st->video) for (int j = 0; j < s->nstreams - 1; j++) st->layer += s->streams[j].video;
  }
  for (int i = 0; i < s->nstreams; i++) s->streams[i].off = s->streams[i].video && s->streams[i].layer >= layers_on;
  static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int i = 0; i < 8; i++) s->local_ufrag[i] = alnum[rand32() % 36];
  RAND_bytes((uint8_t *)&s->tiebreaker, 8);

  struct sockaddr_in local = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  int buf = 1 << 20;
  s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&local, sizeof local) < 0 || connect(s->fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"socket: %s\"}", id, strerror(errno));
    { free_session(s); return; }
  }
  setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  int on = 1; /* kernel receive times, for the latency: see rx_stamp */
  if (s->audio_pt >= 0) setsockopt(s->fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) die("epoll_ctl");

  s->ssl = SSL_new(ssl_ctx);
  s->rbio = BIO_new(BIO_s_mem());
  s->wbio = BIO_new(BIO_s_mem());
  if (!s->ssl || !s->rbio || !s->wbio) die("SSL_new");
  BIO_set_mem_eof_return(s->rbio, -1); /* empty means "retry", not EOF */
  BIO_set_mem_eof_return(s->wbio, -1);
  SSL_set_bio(s->ssl, s->rbio, s->wbio);
  SSL_set_connect_state(s->ssl);
  SSL_set_options(s->ssl, SSL_OP_NO_QUERY_MTU); /* memory BIOs cannot tell the MTU */
  SSL_set_mtu(s->ssl, MTU - 28); /* minus IPv4 and UDP headers */

  s->st = ST_ICE;
  s->t_add = now_us();
  s->deadline_us = s->t_add + ICE_TIMEOUT_US;
  s->next_stun_us = 0;
  sessions[nsessions++] = s;
  return;
bad_role:
  emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"role must be send or recv\"}", id);
  free_session(s);
}

static void cmd_remove(const char *id) {
  for (int i = 0; i < nsessions; i++) {
    if (strcmp(sessions[i]->id, id) != 0) continue;
    free_session(sessions[i]);
    sessions[i] = sessions[--nsessions];
    emit("{\"event\":\"removed\",\"id\":\"%s\"}", id);
    return;
  }
  emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"no such session\"}", id);
}

/* layers <id> <n>: the n lowest video streams of a send session send, the others are off. */
static void cmd_layers(const char *id, const char *count) {
  session_t *s = find(id);
  char *end;
  long n = strtol(count, &end, 10);
  if (!s || !s->send_role || *end || n < 0) {
    emit("{\"event\":\"failed\",\"id\":\"%s\",\"reason\":\"layers: no such send session, or not a count\"}", valid_id(id) ? id : "");
    return;
  }
  int64_t now = now_us();
  for (int i = 0; i < s->nstreams; i++) {
    stream_t *st = &s->streams[i];
    if (!st->video) continue;
    int off = st->layer >= n;
    if (st->off && !off && s->media_start_us) {
      /* Back on: from the frame due now, starting with a key frame (the encoder restarts). */
      uint64_t due = (uint64_t)((double)(now - s->media_start_us) * st->fps / 1e6);
      if (due > st->frame) st->frame = due;
      st->force_key = 1;
      /* Its sender report soon after its first packets, as at the start (mediasoup switches a
       * consumer between layers only once both have sent one). */
      if (s->next_sr_us > now + 200000) s->next_sr_us = now + 200000;
    }
    st->off = off;
  }
}

static void cmd_stats(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
  uint64_t t[9] = { 0 };
  int ready = 0, failed = 0;
  /* Stats can be long (a few hundred bytes per session): written in one go, one line. */
  printf("{\"event\":\"stats\",\"t\":%.1f,\"cpuMs\":%.1f,\"sessions\":[", now_us() / 1000.0, cpu);
  for (int i = 0; i < nsessions; i++) {
    session_t *s = sessions[i];
    uint64_t v[9] = { s->tx_pkts, s->tx_bytes, s->tx_rtcp, s->rx_rtp, s->rx_bytes, s->rx_rtcp, s->rx_pli, s->rx_fir, s->key_frames };
    for (int j = 0; j < 9; j++) t[j] += v[j];
    ready += s->st == ST_READY;
    failed += s->st == ST_FAILED;
    printf("%s{\"id\":\"%s\",\"role\":\"%s\",\"state\":\"%s\",\"sent\":%lu,\"sentBytes\":%lu,\"rtcpSent\":%lu,\"recv\":%lu,\"recvBytes\":%lu,"
           "\"rtcpRecv\":%lu,\"pliRecv\":%lu,\"firRecv\":%lu,\"keyFrames\":%lu,\"txErrors\":%lu,\"late\":%lu,\"reordered\":%lu,\"ssrcs\":[",
           i ? "," : "", s->id, s->send_role ? "send" : "recv", state_name[s->st], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8],
           s->tx_errors, s->late, s->rx_reordered);
    for (int j = 0; j < s->n_rx_ssrcs; j++) printf("%s[%u,%lu]", j ? "," : "", s->rx_ssrcs[j].ssrc, s->rx_ssrcs[j].n);
    printf("]}");
  }
  printf("],\"total\":{\"sessions\":%d,\"ready\":%d,\"failed\":%d,\"sent\":%lu,\"sentBytes\":%lu,\"rtcpSent\":%lu,\"recv\":%lu,\"recvBytes\":%lu,"
         "\"rtcpRecv\":%lu,\"pliRecv\":%lu,\"firRecv\":%lu,\"keyFrames\":%lu},\"latency\":{\"count\":%lu,\"p50\":",
         nsessions, ready, failed, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], lat_count);
  lat_print_quantile(0.5);
  printf(",\"p90\":");
  lat_print_quantile(0.9);
  printf(",\"p99\":");
  lat_print_quantile(0.99);
  emit(",\"max\":%.1f,\"miss\":%lu}}", lat_max / 1000.0, lat_miss);
}

/* Returns 0 to stop. */
static int handle_line(char *line) {
  char *tok[7 + MAX_STREAMS + 2];
  int ntok = 0;
  for (char *p = strtok(line, " \t\r"); p && ntok < (int)(sizeof tok / sizeof *tok); p = strtok(NULL, " \t\r")) tok[ntok++] = p;
  if (ntok == 0) return 1;
  if (strcmp(tok[0], "add") == 0) cmd_add(tok, ntok);
  else if (strcmp(tok[0], "remove") == 0 && ntok == 2) cmd_remove(tok[1]);
  else if (strcmp(tok[0], "layers") == 0 && ntok == 3) cmd_layers(tok[1], tok[2]);
  else if (strcmp(tok[0], "stats") == 0) cmd_stats();
  else if (strcmp(tok[0], "latency-reset") == 0) {
    memset(lat_hist, 0, sizeof lat_hist);
    lat_count = lat_miss = lat_max = 0;
  }
  else if (strcmp(tok[0], "stop") == 0) return 0;
  else fprintf(stderr, "loadgen: unknown command '%.40s'\n", tok[0]);
  return 1;
}

/* Reads what stdin has; runs each complete line. Returns 0 on stop or EOF. */
static int on_stdin(void) {
  static char buf[65536];
  static size_t used;
  for (;;) {
    ssize_t n = read(0, buf + used, sizeof buf - 1 - used);
    if (n == 0) return 0;
    if (n < 0) return errno == EAGAIN || errno == EINTR;
    used += (size_t)n;
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', used - (size_t)(start - buf)))) {
      *nl = 0;
      if (!handle_line(start)) return 0;
      start = nl + 1;
    }
    used -= (size_t)(start - buf);
    memmove(buf, start, used);
    if (used == sizeof buf - 1) used = 0; /* a line longer than the buffer: dropped */
  }
}

/* ---- Floors: what this machine does without an SFU (subcommands) --------------------------- */

static atomic_int floor_stop;

typedef struct {
  int in, out;  /* in: bound socket to receive from (-1: none); out: connected socket (-1: none) */
  int batch, size;
  uint64_t pkts, calls; /* datagrams handled; receive (or, for the blaster, send) calls */
  double user_ns, sys_ns;
} floor_role;

static double tv_ns(struct timeval tv) { return tv.tv_sec * 1e9 + tv.tv_usec * 1e3; }

/* One thread: blaster (out only: sends size-byte datagrams), relay (in and out: forwards what it
 * receives) or sink (in only: counts). Its own CPU time comes back in user_ns / sys_ns. */
static void *floor_thread(void *arg) {
  floor_role *r = arg;
  static _Thread_local uint8_t bufs[BATCH][PKT_MAX];
  struct iovec in_iov[BATCH], out_iov[BATCH];
  struct mmsghdr in_msg[BATCH], out_msg[BATCH];
  memset(in_msg, 0, sizeof in_msg);
  memset(out_msg, 0, sizeof out_msg);
  for (int i = 0; i < BATCH; i++) {
    in_iov[i] = (struct iovec){ bufs[i], PKT_MAX };
    out_iov[i] = (struct iovec){ bufs[i], (size_t)r->size };
    in_msg[i].msg_hdr.msg_iov = &in_iov[i];
    out_msg[i].msg_hdr.msg_iov = &out_iov[i];
    in_msg[i].msg_hdr.msg_iovlen = out_msg[i].msg_hdr.msg_iovlen = 1;
  }
  while (!atomic_load_explicit(&floor_stop, memory_order_relaxed)) {
    int n = r->batch;
    /* Blocks for the first datagram (at most 50 ms), then takes what else is queued. */
    if (r->in >= 0 && (n = recvmmsg(r->in, in_msg, r->batch, MSG_WAITFORONE, NULL)) <= 0) continue;
    r->calls++;
    if (r->out < 0) { r->pkts += n; continue; }
    for (int i = 0; r->in >= 0 && i < n; i++) out_iov[i].iov_len = in_msg[i].msg_len;
    int sent = sendmmsg(r->out, out_msg, n, 0);
    if (sent > 0) r->pkts += sent;
  }
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  r->user_ns = tv_ns(ru.ru_utime);
  r->sys_ns = tv_ns(ru.ru_stime);
  return NULL;
}

/* A UDP socket on 127.0.0.1, an ephemeral port; connected to `to` when given. */
static int floor_socket(const struct sockaddr_in *to, struct sockaddr_in *bound) {
  struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
  socklen_t alen = sizeof a;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), buf = 4 << 20;
  struct timeval tmo = { 0, 50000 }; /* blocking receives wake up to see floor_stop */
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || getsockname(fd, (struct sockaddr *)&a, &alen) < 0) die("floor socket");
  if (to && connect(fd, (const struct sockaddr *)to, sizeof *to) < 0) die("floor connect");
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof tmo);
  if (bound) *bound = a;
  return fd;
}

/* blaster -> relay -> sink on loopback, `seconds` per datagram size. The blaster outruns the
 * relay (the surplus is dropped at the relay's socket), so the relay never waits for work long:
 * its CPU time per packet is its cost. Three busy threads: on a 2-core machine they share the
 * cores, so packets/s is what the relay got of them; ns/packet is the number to compare.
 * Loopback delivers a datagram into the receiving socket within the sender's syscall (softirq
 * at its end); unless the kernel has CONFIG_IRQ_TIME_ACCOUNTING, that time is in the sender's
 * rusage: the relay's includes queueing to the sink, as the SFU worker's includes queueing to
 * the generator. */
static int floor_relay(int seconds, int batch) {
  static const int sizes[] = { 100, 1200 };
  printf("{\"floor\":\"relay\",\"seconds\":%d,\"batch\":%d,\"sizes\":[", seconds, batch);
  for (int k = 0; k < 2; k++) {
    struct sockaddr_in relay_addr, sink_addr;
    int sink_fd = floor_socket(NULL, &sink_addr), relay_in = floor_socket(NULL, &relay_addr);
    floor_role sink = { .in = sink_fd, .out = -1, .batch = BATCH, .size = sizes[k] };
    floor_role relay = { .in = relay_in, .out = floor_socket(&sink_addr, NULL), .batch = batch, .size = sizes[k] };
    floor_role blaster = { .in = -1, .out = floor_socket(&relay_addr, NULL), .batch = BATCH, .size = sizes[k] };
    floor_role *roles[3] = { &sink, &relay, &blaster };
    pthread_t th[3];
    atomic_store(&floor_stop, 0);
    int64_t t0 = now_us();
    for (int i = 0; i < 3; i++) pthread_create(&th[i], NULL, floor_thread, roles[i]);
    sleep((unsigned)seconds);
    atomic_store(&floor_stop, 1);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    double wall = (now_us() - t0) / 1e6, cpu = relay.user_ns + relay.sys_ns, n = (double)relay.pkts;
    double pct[3];
    for (int i = 0; i < 3; i++) pct[i] = 100 * (roles[i]->user_ns + roles[i]->sys_ns) / 1e9 / wall;
    printf("%s{\"size\":%d,\"relayed\":%lu,\"perSec\":%.0f,\"relayCpuNsPerPkt\":%.0f,\"relayUserNsPerPkt\":%.0f,\"relaySysNsPerPkt\":%.0f,"
           "\"pktPerRelayCpuSec\":%.0f,\"avgBatch\":%.1f,\"blasterSent\":%lu,\"sinkReceived\":%lu,"
           "\"cpuPct\":{\"relay\":%.1f,\"blaster\":%.1f,\"sink\":%.1f}}",
           k ? "," : "", sizes[k], relay.pkts, n / wall, cpu / n, relay.user_ns / n, relay.sys_ns / n, n / (cpu / 1e9),
           n / (double)(relay.calls ? relay.calls : 1), blaster.pkts, sink.pkts, pct[1], pct[2], pct[0]);
    close(sink_fd), close(relay.in), close(relay.out), close(blaster.out);
  }
  emit("]}");
  return 0;
}

static double thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* CPU ns per srtp_protect of one profile, as send_frame calls it, for a payload size. */
static double floor_srtp_protect(const srtp_profile *p, int payload, long iterations) {
  static uint8_t pkt[PKT_MAX];
  uint8_t km[32 + 14];
  RAND_bytes(km, sizeof km);
  RAND_bytes(pkt, sizeof pkt);
  pkt[0] = 0x80;
  srtp_dir d;
  srtp_dir_init(&d, p, km, km + p->key_len, 0);
  stream_t st = { .ssrc = 0x12345678 };
  int len = 12 + payload;
  double t0 = thread_cpu_ns();
  for (long i = 0; i < iterations; i++) {
    put16(pkt + 2, (uint16_t)i);
    srtp_protect(&d, &st, pkt, len);
  }
  double t1 = thread_cpu_ns();
  srtp_dir_free(&d);
  return (t1 - t0) / iterations;
}

/* CPU ns per srtp_protect (as send_frame calls it) for each profile, and AES128_CM_SHA1_80's
 * parts alone. Thread CPU time, not wall time: another process on the machine slows the loop
 * down but does not inflate the number. */
static int floor_srtp(long iterations) {
  static const int sizes[] = { 100, 1200 };
  uint8_t km[30], pkt[PKT_MAX];
  RAND_bytes(km, sizeof km);
  RAND_bytes(pkt, sizeof pkt);
  pkt[0] = 0x80;
  srtp_dir d;
  srtp_dir_init(&d, PROFILE_SHA1_80, km, km + 16, 0);
  stream_t st = { .ssrc = 0x12345678 };
  printf("{\"floor\":\"srtp\",\"profile\":\"AES128_CM_SHA1_80\",\"openssl\":\"%s\",\"iterations\":%ld,\"sizes\":[",
         OpenSSL_version(OPENSSL_VERSION), iterations);
  for (int k = 0; k < 2; k++) {
    int len = 12 + sizes[k];
    double t0 = thread_cpu_ns();
    for (long i = 0; i < iterations; i++) {
      put16(pkt + 2, (uint16_t)i);
      srtp_protect(&d, &st, pkt, len);
    }
    double t1 = thread_cpu_ns();
    for (long i = 0; i < iterations; i++) srtp_crypt(&d, st.ssrc, (uint64_t)i, 6, pkt + 12, len - 12);
    double t2 = thread_cpu_ns();
    for (long i = 0; i < iterations; i++) srtp_tag(&d, pkt, len, pkt, 4, pkt + len);
    double t3 = thread_cpu_ns();
    double gcm128 = floor_srtp_protect(PROFILE_GCM128, sizes[k], iterations);
    double gcm256 = floor_srtp_protect(PROFILE_GCM256, sizes[k], iterations);
    printf("%s{\"payload\":%d,\"protectNs\":%.0f,\"aesCtrNs\":%.0f,\"hmacSha1Ns\":%.0f,\"aeadAes128GcmProtectNs\":%.0f,"
           "\"aeadAes256GcmProtectNs\":%.0f}", k ? "," : "", sizes[k], (t1 - t0) / iterations, (t2 - t1) / iterations,
           (t3 - t2) / iterations, gcm128, gcm256);
  }
  srtp_dir_free(&d);
  emit("]}");
  return 0;
}

/* ---- Start-up ------------------------------------------------------------------------------ */

static void make_identity(void) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  if (!key || !x) die("key generation");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), (long)(rand32() & 0x7fffffff));
  X509_gmtime_adj(X509_getm_notBefore(x), -86400);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"loadgen", -1, -1, 0);
  X509_set_issuer_name(x, name);
  if (!X509_sign(x, key, EVP_sha256())) die("certificate signing");

  ssl_ctx = SSL_CTX_new(DTLS_client_method());
  if (!ssl_ctx) die("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(ssl_ctx, DTLS1_2_VERSION);
  if (!SSL_CTX_use_certificate(ssl_ctx, x) || !SSL_CTX_use_PrivateKey(ssl_ctx, key)) die("certificate");
  /* mediasoup checks our certificate against the fingerprint it was given; we do not check its. */
  SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
  if (SSL_CTX_set_tlsext_use_srtp(ssl_ctx, srtp_profile_used->name) != 0) die("use_srtp");

  uint8_t md[32];
  unsigned mdlen;
  char fp[32 * 3];
  X509_digest(x, EVP_sha256(), md, &mdlen);
  for (unsigned i = 0; i < mdlen; i++) sprintf(fp + 3 * i, "%02X%s", md[i], i + 1 < mdlen ? ":" : "");
  emit("{\"event\":\"fingerprint\",\"algorithm\":\"sha-256\",\"value\":\"%s\",\"srtp\":\"%s\"}", fp, srtp_profile_used->name);
  X509_free(x);
  EVP_PKEY_free(key);
}

int main(int argc, char **argv) {
  aes_ctr = EVP_CIPHER_fetch(NULL, "AES-128-CTR", NULL);
  aes256_ctr = EVP_CIPHER_fetch(NULL, "AES-256-CTR", NULL);
  aes_gcm = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL);
  aes256_gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
  hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
  if (!aes_ctr || !aes256_ctr || !aes_gcm || !aes256_gcm || !hmac_alg) die("OpenSSL algorithms");
  if (argc > 1 && strcmp(argv[1], "--selftest") == 0) return selftest();
  if (argc > 1 && strcmp(argv[1], "floor-relay") == 0) {
    int secs = argc > 2 ? atoi(argv[2]) : 5, batch = argc > 3 ? atoi(argv[3]) : BATCH;
    if (secs < 1 || secs > 60 || batch < 1 || batch > BATCH) { fprintf(stderr, "usage: loadgen floor-relay [seconds 1-60] [batch 1-%d]\n", BATCH); return 2; }
    return floor_relay(secs, batch);
  }
  if (argc > 1 && strcmp(argv[1], "floor-srtp") == 0) {
    long n = argc > 2 ? atol(argv[2]) : 2000000;
    if (n < 1000 || n > 100000000) { fprintf(stderr, "usage: loadgen floor-srtp [iterations 1000-100000000]\n"); return 2; }
    return floor_srtp(n);
  }
  if (argc > 1) {
    srtp_profile_used = NULL;
    if (argc == 3 && strcmp(argv[1], "--srtp") == 0)
      for (size_t i = 0; i < sizeof srtp_profiles / sizeof *srtp_profiles; i++)
        if (strcmp(argv[2], srtp_profiles[i].arg) == 0) srtp_profile_used = &srtp_profiles[i];
    if (!srtp_profile_used) {
      fprintf(stderr, "usage: loadgen [--srtp gcm256|gcm128|sha1_80] | --selftest | floor-relay [seconds] [batch] | floor-srtp [iterations]\n");
      return 2;
    }
  }
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
  RAND_bytes(random_pool, sizeof random_pool);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  make_identity();

  epfd = epoll_create1(EPOLL_CLOEXEC);
  fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
  if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &ev) < 0) die("epoll");

  /* Everything happens on a fixed tick: sleep, drain whatever became readable, send what is
   * due. Not waking per packet lets one epoll_wait and one recvmmsg cover several packets; the
   * cost is up to one tick of latency, which only the handshakes see. */
  int64_t next_tick = now_us();
  for (;;) {
    struct timespec wake = { .tv_sec = next_tick / 1000000, .tv_nsec = (next_tick % 1000000) * 1000 };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, NULL) == EINTR) {
    }
    struct epoll_event evs[256];
    int n, stdin_ready = 0;
    do {
      n = epoll_wait(epfd, evs, 256, 0);
      if (n < 0 && errno != EINTR) die("epoll_wait");
      /* Sockets now, stdin after: a `remove` frees a session whose event may be in evs. */
      for (int i = 0; i < n; i++) {
        if (evs[i].data.ptr == NULL) stdin_ready = 1;
        else on_readable(evs[i].data.ptr);
      }
    } while (n == 256);
    int64_t now = now_us();
    for (int i = 0; i < nsessions; i++) tick(sessions[i], now);
    next_tick += TICK_US;
    if (next_tick < now) next_tick = now + TICK_US; /* overloaded: do not try to catch up ticks */
    if (stdin_ready && !on_stdin()) break;
  }
  for (int i = 0; i < nsessions; i++) free_session(sessions[i]);
  emit("{\"event\":\"stopped\"}");
  return 0;
}
